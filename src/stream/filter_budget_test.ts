import assert from "node:assert/strict";
import { overBudget } from "./filter_budget.ts";

const budget = { client: 100, total: 250 };
const clients = (...times: number[]) => times.map((filterMs, i) => ({ name: `c${i}`, filterMs }));
const names = (list: { name: string }[]) => list.map((client) => client.name);

Deno.test("overBudget() takes every client over its own budget", () => {
  assert.deepEqual(names(overBudget(clients(0, 101, 99, 300), budget)), ["c1", "c3"]);
});

Deno.test("overBudget() takes the most expensive of the rest until the total fits", () => {
  assert.deepEqual(names(overBudget(clients(90, 20, 95, 80), budget)), ["c2"]);
  assert.deepEqual(names(overBudget(clients(100, 95, 90, 80), budget)), ["c0", "c1"]);
  assert.deepEqual(names(overBudget(clients(90, 20, 95, 45), budget)), []);
  assert.deepEqual(names(overBudget(clients(), budget)), []);
});
