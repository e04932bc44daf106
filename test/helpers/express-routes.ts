import type { Express } from "express";

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Every METHOD /path the express app serves, with :params written as OpenAPI {params}, sorted. */
export function servedRoutes(app: Express): string[] {
  const walk = (stack: Layer[]): string[] =>
    stack.flatMap((layer) =>
      layer.route
        ? Object.keys(layer.route.methods).map((m) => `${m.toUpperCase()} ${layer.route!.path.replace(/:(\w+)/g, "{$1}")}`)
        : layer.handle?.stack
          ? walk(layer.handle.stack)
          : [],
    );
  return [...new Set(walk((app as unknown as { router: { stack: Layer[] } }).router.stack))].sort();
}
