import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Router } from "express";
import { load } from "js-yaml";

// openapi.yaml sits at the package root (two levels above src/http and lib/http); the Lambda
// bundle ships a copy next to handler.js.
const CANDIDATES = [join(__dirname, "..", "..", "openapi.yaml"), join(__dirname, "openapi.yaml")];

function readDocument(): unknown {
  for (const path of CANDIDATES) {
    try {
      return load(readFileSync(path, "utf8"));
    } catch {
      // try the next place
    }
  }
  return undefined;
}

/**
 * GET /openapi.json: the contract, parsed once, on the first request for it: reading and parsing
 * 30 KB of YAML cost a Lambda cold start 15 ms for a document few invocations ask for.
 */
export function createOpenApiRouter(): Router {
  let document: unknown;
  const router = Router();
  router.get("/openapi.json", (_req, res) => {
    document ??= readDocument();
    if (!document) {
      res.status(404).json({ error: { code: "not_found", message: "openapi.yaml is not deployed with this build" } });
      return;
    }
    res.json(document);
  });
  return router;
}
