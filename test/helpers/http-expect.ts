import type { Knex } from "knex";
import { errorCode, Hop } from "./browser";
import { countRows } from "./factories";

/** A JSON error answer of the contract's shape: `{ error: { code, message } }` with this status and code. */
export function expectError(hop: Hop, status: number | number[], code: string): void {
  const statuses = Array.isArray(status) ? status : [status];
  expect({ status: statuses.includes(hop.status) ? statuses[0] : hop.status, code: errorCode(hop.body) }).toEqual({ status: statuses[0], code });
  expect(hop.body).toEqual({ error: expect.objectContaining({ code, message: expect.any(String) }) });
}

/** The rows a team or link write would add: compare before and after a refused request. */
export async function writeCounts(db: Knex) {
  return {
    teams: await countRows(db, "teams"),
    members: await countRows(db, "team_members"),
    links: await countRows(db, "team_installations"),
    installations: await countRows(db, "installations"),
    audit: await countRows(db, "audit_events"),
  };
}
