import { expect, test } from "vitest";
import { count } from "./text.js";

test("count uses the singular for exactly one", () => {
  expect(count(1, "host")).toBe("1 host");
  expect(count(0, "host")).toBe("0 hosts");
  expect(count(2000, "result")).toBe("2000 results");
  expect(count(1, "bad line")).toBe("1 bad line");
  expect(count(3, "bad line")).toBe("3 bad lines");
});
