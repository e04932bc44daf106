import type { Request } from "express";
import type { z } from "zod";
import { AppError } from "../errors";

function parse<T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const details = result.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
    const first = details[0];
    throw new AppError("invalid_input", `Invalid ${where}: ${first.path || "value"} ${first.message}`, { details });
  }
  return result.data;
}

export const parseQuery = <T extends z.ZodType>(schema: T, req: Request) => parse(schema, req.query, "query");
export const parseBody = <T extends z.ZodType>(schema: T, req: Request) => parse(schema, req.body, "body");
export const parseParams = <T extends z.ZodType>(schema: T, req: Request) => parse(schema, req.params, "path");
