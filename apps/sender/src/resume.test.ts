import { spawn } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, onTestFinished, test } from "vitest";
import { readJournal } from "./job-journal.js";
import { planJob } from "./resume.js";

function dir(): string {
  const d = mkdtempSync(join(tmpdir(), "inventory-resume-"));
  onTestFinished(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const targets = ["web1", "web2", "web3"];
let n = 0;
const newId = () => `job${++n}`;

test("a job's receipts are journaled; --resume continues it with the same id and seqs; a torn line is ignored", async () => {
  const state = join(dir(), "s.state");
  const first = await planJob({ targets, resume: false, state, newId });
  first.journal!.record([0, 2], 1);
  first.journal!.close(false);
  appendFileSync(state, '{"seqs":[1'); // torn by a crash
  expect(readJournal(state)?.stored).toEqual(new Set([0, 2]));
  const second = await planJob({ targets, resume: true, state, newId });
  expect(second.jobId).toBe(first.jobId);
  expect(second.stored).toEqual({ seqs: [0, 2], failed: 1 });
  second.journal!.close(true);
  expect(existsSync(state)).toBe(false);
  expect(existsSync(`${state}.lock`)).toBe(false);
});

test("--resume refuses a changed host list or command; reusing a stored job's id without --resume is refused", async () => {
  const state = join(dir(), "s.state");
  const first = await planJob({ targets, resume: false, state, newId, jobId: "nightly" });
  first.journal!.record([1], 0);
  first.journal!.close(false);
  await expect(planJob({ targets: ["web1", "web3", "web2"], resume: true, state, newId })).rejects.toThrow(
    /host list or --command changed/,
  );
  await expect(planJob({ targets, command: "date", resume: true, state, newId })).rejects.toThrow(/changed/);
  await expect(planJob({ targets, resume: false, state, newId, jobId: "nightly" })).rejects.toThrow(
    /job nightly already has 1 stored result .*--resume/,
  );
  const fresh = await planJob({ targets, resume: false, state, newId });
  expect(fresh.notes.join()).toMatch(/job nightly of this host list was not finished/);
  fresh.journal!.close(true);
});

test("a state file held by a live sender is refused; a lock left by a dead one is taken over", async () => {
  const state = join(dir(), "s.state");
  const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
  onTestFinished(() => {
    child.kill("SIGKILL");
  });
  writeFileSync(`${state}.lock`, `${child.pid}\n`);
  await expect(planJob({ targets, resume: false, state, newId })).rejects.toThrow(
    new RegExp(`another uptime-sender \\(pid ${child.pid}\\) is running this job`),
  );
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGKILL");
  await exited;
  const plan = await planJob({ targets, resume: false, state, newId });
  expect(readFileSync(`${state}.lock`, "utf8").trim()).toBe(String(process.pid));
  plan.journal!.close(false);
  expect(existsSync(`${state}.lock`)).toBe(false);
});

test("by default each job has its own state file: two senders of one host list do not collide, --resume finds the job", async () => {
  const env = { XDG_STATE_HOME: dir() };
  const a = await planJob({ targets, resume: false, newId, env });
  const b = await planJob({ targets, resume: false, newId, env }); // while a still runs: no lock conflict
  expect(b.jobId).not.toBe(a.jobId);
  a.journal!.record([0], 0);
  a.journal!.close(true); // a finished: its file is gone
  b.journal!.record([1, 2], 0);
  b.journal!.close(false); // b was killed
  const resumed = await planJob({ targets, resume: true, newId, env });
  expect(resumed.jobId).toBe(b.jobId);
  expect(resumed.stored?.seqs).toEqual([1, 2]);
  await expect(planJob({ targets, resume: true, newId, env })).rejects.toThrow(/another uptime-sender/);
  resumed.journal!.close(true);
  const none = await planJob({ targets, resume: true, newId, env });
  expect(none.notes.join()).toMatch(/nothing to resume/);
  none.journal!.close(true);
});
