import { RequestError } from "@octokit/request-error";
import { isDatabaseUnavailable } from "../../../src/services/health";

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe("isDatabaseUnavailable", () => {
  // First in the file: octokit warns once per process.
  test("reads nothing deprecated of GitHub's errors (octokit warns on error.code)", () => {
    const warn = jest.spyOn(console, "warn").mockImplementation(() => undefined);
    try {
      isDatabaseUnavailable(new RequestError("Bad Gateway", 502, { request: { method: "GET", url: "https://api.github.com/user", headers: {} } }));
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  // What pg and knex threw in test/faults/postgres-restart.test.ts while Postgres stopped, started and froze.
  test.each([
    ["a refused connection", withCode("connect ECONNREFUSED 127.0.0.1:5432", "ECONNREFUSED")],
    ["a backend cut by a fast shutdown", withCode("select 1 - terminating connection due to administrator command", "57P01")],
    ["a server starting up", withCode("the database system is starting up", "57P03")],
    ["a connection exception (class 08)", withCode("connection failure", "08006")],
    ["a socket dropped mid-query, as knex words it", new Error("ROLLBACK - Connection terminated unexpectedly")],
    ["a client left broken by an earlier error", new Error("COMMIT; - Client has encountered a connection error and is not queryable")],
    ["a server that accepts a connection and says nothing (pg's connectionTimeoutMillis)", new Error("timeout expired")],
    ["a query left unanswered (db/knex.ts closes its connection)", withCode("Postgres did not answer within 1500 ms; the connection was closed", "ETIMEDOUT")],
    ["an exhausted pool", Object.assign(new Error("Knex: Timeout acquiring a connection. The pool is probably full."), { name: "KnexTimeoutError" })],
    ["every address of a host refusing", new AggregateError([withCode("connect ECONNREFUSED ::1:5432", "ECONNREFUSED"), withCode("connect ECONNREFUSED 127.0.0.1:5432", "ECONNREFUSED")])],
  ])("is true for %s", (_what, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  // A query the database answered with an error is a bug or bad data, not an outage: no 503 for those.
  test.each([
    ["a unique violation", withCode("insert into teams … - duplicate key value violates unique constraint", "23505")],
    ["a missing table", withCode('select * from "nope" - relation "nope" does not exist', "42P01")],
    ["a SQLite constraint", withCode("SQLITE_CONSTRAINT: UNIQUE constraint failed: teams.id", "SQLITE_CONSTRAINT")],
    ["an error that merely mentions a timeout", new Error("the request timeout expired before GitHub answered")],
    ["an ordinary error", new TypeError("Cannot read properties of undefined (reading 'id')")],
    ["an aggregate with one query error among outages", new AggregateError([withCode("connect ECONNREFUSED", "ECONNREFUSED"), withCode("duplicate key", "23505")])],
    ["not an error at all", undefined],
    ["GitHub answering 502", new RequestError("Bad Gateway", 502, { request: { method: "GET", url: "https://api.github.com/user", headers: {} } })],
  ])("is false for %s", (_what, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });

});
