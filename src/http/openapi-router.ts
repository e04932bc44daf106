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

/** GET /openapi.json: the contract, parsed once at start. */
export function createOpenApiRouter(): Router {
  const document = readDocument();
  const router = Router();
  router.get("/openapi.json", (_req, res) => {
    if (!document) {
      res.status(404).json({ error: { code: "not_found", message: "openapi.yaml is not deployed with this build" } });
      return;
    }
    res.json(document);
  });
  return router;
}
