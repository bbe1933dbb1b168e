// Prints (as JSON) every module a real Node process loads when it imports argv[2]: ESM through
// a resolve hook, CommonJS through require.cache (which also holds CJS loaded by ESM imports).
import { createRequire, register } from "node:module";

const { port1, port2 } = new MessageChannel();
const seen = new Set();
port1.on("message", (url) => seen.add(url));
port1.unref();
const hook = `let port;
export function initialize(data) { port = data.port; }
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  port.postMessage(r.url);
  return r;
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`, {
  parentURL: import.meta.url,
  data: { port: port2 },
  transferList: [port2],
});
await import(process.argv[2]);
await new Promise((resolve) => setTimeout(resolve, 200));
for (const file of Object.keys(createRequire(import.meta.url).cache)) seen.add(file);
console.log(JSON.stringify([...seen]));
