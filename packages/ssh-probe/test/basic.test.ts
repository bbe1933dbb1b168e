import { expect, test } from "vitest";
import { useFixture } from "./helpers/fixture.js";

test("probes an ssh2 server and parses uptime", async () => {
  const fx = useFixture();
  const server = await fx.server();
  const probe = fx.probe();
  const r = await probe.probe(`127.0.0.1:${server.port}`);
  expect(r).toMatchObject({ ok: true, reused: false, attempts: 1 });
  if (!r.ok) throw new Error(r.error.message);
  expect(r.uptime.text).toBe(server.hosts[0]!.expected.text);
  const r2 = await probe.probe(`127.0.0.1:${server.port}`);
  expect(r2).toMatchObject({ ok: true, reused: true });
});
