import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { DEFAULT_SCHEMA, load, Type } from "js-yaml";
import { ConfigError, parseConfig } from "../../src/config";

const ROOT = join(__dirname, "../..");
const TEMPLATE = join(ROOT, "deploy/template.yaml");

/**
 * CloudFormation's short-form tags, read into their long form (`!Ref X` → `{ Ref: "X" }`,
 * `!Sub "…"` → `{ "Fn::Sub": "…" }`), so the template parses as the data CloudFormation sees.
 */
const CFN_TAGS: Array<[tag: string, key: string]> = [
  ["Ref", "Ref"],
  ["Sub", "Fn::Sub"],
  ["If", "Fn::If"],
  ["Not", "Fn::Not"],
  ["Equals", "Fn::Equals"],
  ["And", "Fn::And"],
  ["Or", "Fn::Or"],
  ["GetAtt", "Fn::GetAtt"],
  ["Join", "Fn::Join"],
  ["Select", "Fn::Select"],
  ["Split", "Fn::Split"],
  ["FindInMap", "Fn::FindInMap"],
  ["Base64", "Fn::Base64"],
  ["ImportValue", "Fn::ImportValue"],
  ["GetAZs", "Fn::GetAZs"],
  ["Condition", "Condition"],
];
const CFN_SCHEMA = DEFAULT_SCHEMA.extend(
  CFN_TAGS.flatMap(([tag, key]) =>
    (["scalar", "sequence", "mapping"] as const).map(
      (kind) =>
        new Type(`!${tag}`, {
          kind,
          // !GetAtt Resource.Attribute is the short form of [Resource, Attribute].
          construct: (data: unknown) => ({ [key]: tag === "GetAtt" && typeof data === "string" ? data.split(".") : data }),
        }),
    ),
  ),
);

interface Resource {
  Type: string;
  Properties?: Record<string, unknown>;
}
interface EventSource {
  Type: string;
  Properties: Record<string, unknown>;
}
interface Template {
  Parameters: Record<string, { Default?: string; AllowedValues?: string[] }>;
  Globals?: { Function?: Record<string, unknown> };
  Resources: Record<string, Resource>;
}

const template = load(readFileSync(TEMPLATE, "utf8"), { schema: CFN_SCHEMA }) as Template;

const functions = Object.entries(template.Resources).filter(([, r]) => r.Type === "AWS::Serverless::Function");
const [functionName, fn] = functions[0];
const props = fn.Properties ?? {};
const environment = ((props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {}) as Record<string, unknown>;
const events = Object.entries((props.Events ?? {}) as Record<string, EventSource>);

/** `METHOD /path` with OpenAPI-style `{params}`. */
const route = (method: string, path: string) => `${method.toUpperCase()} ${path.replace(/:(\w+)/g, "{$1}")}`;

/**
 * The first column of the route table in the public contract (API.md, "Routes"), as written there;
 * `…/members/:githubUserId` continues the path before it.
 */
const API_MD_ROUTE_CELLS = [
  "`POST /api/github/webhooks`",
  "`GET /auth/login?return_to=/teams/7/connect`",
  "`GET /auth/callback?code&state`",
  "`POST /auth/logout`",
  "`GET /api/me`",
  "`POST /api/teams` `{ name }`",
  "`GET /api/teams`",
  "`GET /api/teams/:teamId/members` · `PUT …/members/:githubUserId { role }` · `DELETE …/members/:githubUserId`",
  "`GET /api/teams/:teamId/installations`",
  "`GET /api/teams/:teamId/installations/available`",
  "`POST /api/teams/:teamId/installations` `{ installationId }`",
  "`DELETE /api/teams/:teamId/installations/:installationId`",
  "`GET /setup?installation_id&setup_action[&state]`",
  "`POST /api/teams/:teamId/repositories` `{ installationId, name, private?, description? }`",
  "`POST /api/teams/:teamId/repositories/:owner/:repo/commits` `{ branch, message, files: [...] }`",
  "`GET /teams/:teamId/connect`",
  "`GET /healthz`",
];

function apiMdRoutes(): string[] {
  const routes: string[] = [];
  for (const cell of API_MD_ROUTE_CELLS) {
    let previous = "";
    for (const part of cell.split(" · ")) {
      const match = /^`(GET|POST|PUT|PATCH|DELETE) ([^`\s?{]+)/.exec(part.trim());
      if (!match) throw new Error(`cannot read a route from ${part}`);
      let path = match[2];
      if (path.startsWith("…/")) {
        const next = path.slice(2);
        const at = previous.indexOf(`/${next.split("/")[0]}`);
        path = `${previous.slice(0, at)}/${next}`;
      }
      previous = path;
      routes.push(route(match[1], path));
    }
  }
  return routes;
}

function openapiRoutes(): string[] {
  const spec = load(readFileSync(join(ROOT, "openapi.yaml"), "utf8")) as { paths: Record<string, Record<string, unknown>> };
  return Object.entries(spec.paths).flatMap(([path, ops]) =>
    Object.keys(ops)
      .filter((k) => ["get", "put", "post", "delete", "patch", "head", "options"].includes(k))
      .map((m) => route(m, path)),
  );
}

function httpApiRoutes(): string[] {
  return events.filter(([, e]) => e.Type === "HttpApi").map(([, e]) => route(String(e.Properties.Method), String(e.Properties.Path)));
}

/**
 * What the server scope of the configuration requires, read from parseConfig's own answer to an
 * empty environment: each entry lists the alternatives (`PRIVATE_KEY or PRIVATE_KEY_PATH`).
 */
function requiredServerVariables(): string[][] {
  try {
    parseConfig({}, "server");
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.flatMap((p) => {
      const match = /^([A-Z][A-Z0-9_]*(?: or [A-Z][A-Z0-9_]*)*) is required/.exec(p);
      return match ? [match[1].split(" or ")] : [];
    });
  }
  throw new Error("parseConfig accepted an empty environment for the server scope");
}

const SECRETS = ["PRIVATE_KEY", "WEBHOOK_SECRET", "GITHUB_CLIENT_SECRET", "TOKEN_ENCRYPTION_KEYS", "SESSION_SECRET", "DATABASE_URL"];

describe("deploy/template.yaml (AWS SAM)", () => {
  test("has one function, built from the bundle: CodeUri is dist/lambda and the handler is handler.handler", () => {
    expect(functions.map(([name]) => name)).toEqual([functionName]);
    expect(resolve(join(ROOT, "deploy"), String(props.CodeUri))).toBe(join(ROOT, "dist/lambda"));
    expect(props.Handler).toBe("handler.handler");
  });

  test("runs on nodejs24.x by default, still allows nodejs22.x, and no longer offers nodejs20.x", () => {
    const runtime = template.Parameters.Runtime;
    expect(runtime.Default).toBe("nodejs24.x");
    expect(runtime.AllowedValues).toContain("nodejs22.x");
    expect(runtime.AllowedValues).not.toContain("nodejs20.x");
    expect(props.Runtime ?? template.Globals?.Function?.Runtime).toEqual({ Ref: "Runtime" });
  });

  test("maps every route of API.md's route table to the function with an HttpApi event of the same method and path", () => {
    const mapped = httpApiRoutes();
    const contract = apiMdRoutes();
    expect(contract).toHaveLength(19);
    expect(contract.filter((r) => !mapped.includes(r))).toEqual([]);
  });

  test("maps every route in openapi.yaml with an HttpApi event of the same method and path, and nothing else", () => {
    const documented = openapiRoutes();
    expect(documented.length).toBeGreaterThan(10);
    expect([...httpApiRoutes()].sort()).toEqual([...documented].sort());
  });

  test("every HttpApi event belongs to the template's HTTP API", () => {
    const apis = Object.entries(template.Resources).filter(([, r]) => r.Type === "AWS::Serverless::HttpApi").map(([name]) => name);
    expect(apis).toHaveLength(1);
    for (const [, e] of events.filter(([, e]) => e.Type === "HttpApi")) expect(e.Properties.ApiId).toEqual({ Ref: apis[0] });
  });

  test("sets every variable the server configuration requires, and DATABASE_URL (Lambda refuses SQLite)", () => {
    const required = [...requiredServerVariables(), ["DATABASE_URL"]];
    expect(required.length).toBeGreaterThanOrEqual(7);
    const missing = required.filter((alternatives) => !alternatives.some((name) => environment[name] !== undefined && environment[name] !== ""));
    expect(missing).toEqual([]);
  });

  test.each(SECRETS)("%s comes from Secrets Manager ({{resolve:secretsmanager:…}}), not a literal", (name) => {
    const value = environment[name] as string | { "Fn::Sub"?: unknown } | undefined;
    const text = typeof value === "string" ? value : value?.["Fn::Sub"];
    expect(typeof text).toBe("string");
    expect(text).toMatch(/^\{\{resolve:secretsmanager:(?:[^{}]|\$\{\w+\})+\}\}$/);
    // Every ${…} in the reference is a parameter of the template (the secrets' name prefix).
    for (const [, ref] of String(text).matchAll(/\$\{([^}]+)\}/g)) expect(Object.keys(template.Parameters)).toContain(ref);
  });

  test("no environment value holds a private key or other literal secret", () => {
    const literal = JSON.stringify(environment);
    expect(literal).not.toMatch(/-----BEGIN|ghs_|ghu_|opx_/);
  });

  test("Schedule events invoke the function with the reconcile and the housekeeping job", () => {
    const schedules = events.filter(([, e]) => e.Type === "Schedule" || e.Type === "ScheduleV2");
    expect(schedules.length).toBeGreaterThanOrEqual(1);
    const jobs = schedules.map(([, e]) => {
      const input = e.Properties.Input;
      // Without an Input the function receives EventBridge's "Scheduled Event", which also means reconcile.
      return input === undefined ? "reconcile" : (JSON.parse(String(input)) as { octoplex?: { job?: string } }).octoplex?.job;
    });
    expect(jobs).toEqual(expect.arrayContaining(["reconcile", "housekeeping"]));
    for (const [, e] of schedules) expect(String(e.Properties.Schedule)).toMatch(/^(rate|cron)\(.+\)$/);
  });
});
