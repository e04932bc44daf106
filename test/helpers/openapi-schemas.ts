import type Ajv2020 from "ajv/dist/2020";

/** What openapi-validator.ts (Octoplex's openapi.yaml) and github-openapi.ts (GitHub's) share. */

type Json = Record<string, unknown>;

/**
 * OpenAPI 3.0's `nullable: true`, on a schema already copied without that key, as JSON Schema
 * 2020-12 says it: a type (or enum) that also admits null, or anyOf with null when it names neither.
 */
export function admittingNull(schema: Json): Json {
  const out = { ...schema };
  if (typeof out.type === "string") out.type = [out.type, "null"];
  else if (Array.isArray(out.type) && !out.type.includes("null")) out.type = [...out.type, "null"];
  if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
  if (out.type === undefined && out.enum === undefined) return { anyOf: [out, { type: "null" }] };
  return out;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** `date-time` (RFC 3339) and `uri` (absolute, as URL parses it), checked rather than only annotated. */
export function addTimeAndUriFormats(ajv: Ajv2020): void {
  ajv.addFormat("date-time", { type: "string", validate: (s: string) => RFC3339.test(s) && !Number.isNaN(Date.parse(s)) });
  ajv.addFormat("uri", {
    type: "string",
    validate: (s: string) => {
      if (!/^[a-z][a-z0-9+.-]*:/i.test(s)) return false;
      try {
        new URL(s);
        return true;
      } catch {
        return false;
      }
    },
  });
}
