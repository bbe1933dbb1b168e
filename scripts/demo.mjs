console.log("pnpm demo: not yet (the apps issue adds it)");
