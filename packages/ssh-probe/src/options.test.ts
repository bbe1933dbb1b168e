import { expect, test, vi } from "vitest";
import { useFixture } from "../test/helpers/fixture.js";
import { createProbe } from "./probe.js";

test.each([
  [{ concurrency: 0 }, /`concurrency`.*integer >= 1.*got 0/],
  [{ concurrency: "10" }, /`concurrency`.*got "10"/],
  [{ hostKeyPolicy: "yes" }, /`hostKeyPolicy`.*"strict", "accept-new" or "off".*got "yes"/],
  [{ agent: 1 }, /`agent`.*socket path or false/],
  [{ identityFiles: "~/.ssh/id_rsa" }, /`identityFiles`.*array of paths/],
  [{ pool: "yes" }, /`pool`/],
  [{ pool: { idleTimeoutMs: -1 } }, /`pool.idleTimeoutMs`/],
  [{ command: "" }, /`command`.*non-empty string/],
  [{ deadlineMs: 1.5 }, /`deadlineMs`/],
])("createProbe(%j) throws a TypeError naming the option", (options, message) => {
  expect(() => createProbe({ agent: false, identityFiles: [], ...(options as object) })).toThrow(TypeError);
  expect(() => createProbe({ agent: false, identityFiles: [], ...(options as object) })).toThrow(message);
});

test("probe() rejects a malformed target with a TypeError; probeAll throws it to the loop", async () => {
  const probe = createProbe({ agent: false, identityFiles: [] });
  await expect(probe.probe("bad host")).rejects.toThrow(TypeError);
  await expect(probe.probe({ host: "" })).rejects.toThrow(TypeError);
  await expect(async () => {
    for await (const _ of probe.probeAll(["a b"])) void _;
  }).rejects.toThrow(/whitespace/);
  await probe.close();
});

test("warns through the logger when the open-files soft limit is below what concurrency needs", async () => {
  const warn = vi.fn();
  const probe = createProbe({ agent: false, identityFiles: [], concurrency: 50_000, logger: { warn } });
  await probe.close();
  expect(warn).toHaveBeenCalledWith(
    expect.stringMatching(/open-files soft limit \d+ .*ulimit -n/),
    expect.anything(),
  );
  const quiet = vi.fn();
  await createProbe({ agent: false, identityFiles: [], concurrency: 10, logger: { warn: quiet } }).close();
  expect(quiet).not.toHaveBeenCalled();
});

test("an unreadable explicit identity file is reported and the probe fails with KEY, not a crash", async () => {
  const fx = useFixture();
  const server = await fx.server();
  const warn = vi.fn();
  const probe = fx.probe({ identityFiles: ["/nonexistent/id_ed25519"], logger: { warn } });
  expect(warn).toHaveBeenCalledWith(expect.stringContaining("/nonexistent/id_ed25519"));
  const r = await probe.probe(`127.0.0.1:${server.port}`);
  expect(r).toMatchObject({ ok: false, error: { code: "KEY" } });
  expect(r.ok || r.error.message).toContain("cannot read identity file /nonexistent/id_ed25519");
});
