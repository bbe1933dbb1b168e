console.log("pnpm bench: not yet (the benchmarks issue adds it); see pnpm bench:protocol");
