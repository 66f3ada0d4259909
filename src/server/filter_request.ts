import { type ClientFilter, FilterError, parseFilterQuery } from "../filter/client_filter.ts";
import type { EntryFilter } from "../stream/hub.ts";
import { type ExtraHeaders, jsonResponse } from "./responses.ts";

/** What a client asked for in its request's query, as the hub takes it. */
export interface ClientSelection {
  /** Undefined when the client wants every entry: the hub's fast path. */
  readonly filter: EntryFilter | undefined;
  /** How status shows the filter, e.g. `level=ERROR tail=100`. */
  readonly filterDescription: string | undefined;
  /** `tail=N`, undefined when not given. */
  readonly tail: number | undefined;
}

/** The hub's view of a compiled client filter and its `tail`. */
export function clientSelection(filter: ClientFilter): ClientSelection {
  return {
    filter: filter.matchesAll ? undefined : filter,
    filterDescription: filter.description === "" ? undefined : filter.description,
    tail: filter.parameters.includes("tail") ? filter.tail : undefined,
  };
}

/**
 * The filter and `tail` in `request`'s query (README "Filters"), or the `400` answer naming
 * the parameter at fault: `{"error": …, "parameter": …}`.
 */
export function selectionFromRequest(
  request: Request,
  headers: ExtraHeaders,
): ClientSelection | Response {
  try {
    return clientSelection(parseFilterQuery(new URL(request.url).searchParams));
  } catch (error) {
    if (!(error instanceof FilterError)) throw error;
    return jsonResponse(
      request,
      { error: error.message, parameter: error.parameter },
      400,
      headers,
    );
  }
}
