import { z } from "zod";

/** A database or GitHub id in a path or body: digits only, no sign, no fraction, no SQL. */
export const id = z
  .union([z.string(), z.number()])
  .transform((v) => String(v))
  .refine((v) => /^[1-9]\d{0,15}$/.test(v), "must be a positive integer id")
  .transform(Number);

export const teamParams = z.object({ teamId: id });
export const memberParams = z.object({ teamId: id, githubUserId: id });
export const installationParams = z.object({ teamId: id, installationId: id });

export const createTeamBody = z.object({ name: z.string().trim().min(1, "is required").max(100) }).strict();
export const memberBody = z.object({ role: z.enum(["admin", "member"]) }).strict();
export const linkBody = z.object({ installationId: id }).strict();
