/**
 * How much of the thread that serves everyone client filters may take. A filter's patterns
 * are linear-time, but a long pattern against long lines still costs milliseconds per entry:
 * a few clients with such patterns would leave nothing for the others. So each filter's
 * time is metered per window, and the clients that take more than their share are
 * disconnected (README "Filters": limits), most expensive first.
 *
 * @module
 */

/** One window of metering, in milliseconds. */
export const FILTER_WINDOW_MS = 1000;
/** The most one client's filter may take in a window: a tenth of the thread. */
export const CLIENT_FILTER_BUDGET_MS = 100;
/** The most all filters together may take in a window: half of the thread. */
export const TOTAL_FILTER_BUDGET_MS = 500;

/** A client whose filter time in the current window is known. */
export interface Metered {
  /** Milliseconds its filter took in the current window. */
  readonly filterMs: number;
}

/** The budgets {@linkcode overBudget} holds clients to, in milliseconds per window. */
export interface FilterBudget {
  /** Per client. */
  readonly client: number;
  /** For all clients together. */
  readonly total: number;
}

const DEFAULT_BUDGET: FilterBudget = {
  client: CLIENT_FILTER_BUDGET_MS,
  total: TOTAL_FILTER_BUDGET_MS,
};

/**
 * The clients to disconnect: every one over its own budget, then the most expensive of the
 * others until what remains fits the total budget.
 */
export function overBudget<T extends Metered>(
  clients: Iterable<T>,
  budget: FilterBudget = DEFAULT_BUDGET,
): T[] {
  const over: T[] = [];
  const within: T[] = [];
  let total = 0;
  for (const client of clients) {
    if (client.filterMs > budget.client) {
      over.push(client);
    } else if (client.filterMs > 0) {
      within.push(client);
      total += client.filterMs;
    }
  }
  if (total <= budget.total) return over;
  within.sort((a, b) => b.filterMs - a.filterMs);
  for (const client of within) {
    if (total <= budget.total) break;
    over.push(client);
    total -= client.filterMs;
  }
  return over;
}
