import { z } from "zod";
import { freeText } from "../free-text";
import { id, teamName } from "./schemas";

// The pages' query strings and form posts (urlencoded: every value arrives as a string).

export const setupQuery = z.object({
  installation_id: id.optional(),
  setup_action: z.enum(["install", "update", "request"]).default("install"),
  state: freeText().min(1).max(512).optional(),
});
export const installationForm = z.object({ csrf: z.string(), installation_id: id });
// "selected": connect with no repositories, then tick them in the picker.
export const linkForm = installationForm.extend({ repositories: z.enum(["all", "selected"]).default("all") });
const searchText = freeText().trim().max(100).default("");
export const connectQuery = z.object({
  installation: id.optional(),
  q: searchText,
  notice: z.enum(["saved", "connected", "refreshed"]).optional(),
});
const idList = z
  .string()
  .max(20_000)
  .regex(/^([1-9]\d{0,15}(,[1-9]\d{0,15})*)?$/, "must be ids separated by commas")
  .transform((v) => (v ? v.split(",").map(Number) : []))
  .refine((ids) => ids.every(Number.isSafeInteger), "must be ids");
export const scopeForm = installationForm.extend({
  scope: z.enum(["all", "selected"]),
  q: searchText,
  // The ids the person saw (the list is capped and searched), and the ticked ones.
  shown: idList,
  repository: z.union([id, z.array(id)]).optional().transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v])),
});
export const pickForm = z.object({
  csrf: z.string(),
  installation_id: id,
  team_id: z.union([id, z.literal("")]).optional(),
  new_team_name: freeText().trim().max(100).optional(),
  repositories: z.enum(["all", "selected"]).default("all"),
});
export const teamForm = z.object({ csrf: z.string(), name: teamName });

/** The connect page with one link's repository picker open (and scrolled to). */
export function pickerUrl(teamId: number, installationId: number, extra: { q?: string; notice?: string } = {}): string {
  const query = new URLSearchParams({ installation: String(installationId) });
  if (extra.q) query.set("q", extra.q);
  if (extra.notice) query.set("notice", extra.notice);
  return `/teams/${teamId}/connect?${query}#repositories-${installationId}`;
}
