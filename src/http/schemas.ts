import { z } from "zod";
import { freeText } from "../free-text";
import { MAX_MESSAGE_LENGTH, MAX_PATH_LENGTH } from "../services/github-access/commit-files";
import { MAX_TOKEN_REPOSITORIES, PERMISSION_NAMES } from "../services/github-access/scoped-tokens";

/**
 * A database or GitHub id in a path or body: digits only, no sign, no fraction, no SQL, and no
 * larger than 2^53 - 1 (beyond it Number() rounds to a neighbouring id, another user's or team's).
 */
export const id = z
  .union([z.string(), z.number()])
  .transform((v) => String(v))
  .refine((v) => /^[1-9]\d{0,15}$/.test(v) && Number.isSafeInteger(Number(v)), "must be a positive integer id")
  .transform(Number);

export const teamParams = z.object({ teamId: id });
export const memberParams = z.object({ teamId: id, githubUserId: id });
export const installationParams = z.object({ teamId: id, installationId: id });

export const teamName = freeText().trim().min(1, "is required").max(100);
// `admin`: an API key acting for nobody names the team's first admin (a GitHub user id).
export const createTeamBody = z.object({ name: teamName, admin: id.optional() }).strict();
export const memberBody = z.object({ role: z.enum(["admin", "member"]) }).strict();
// A link's repository scope: "all" (every repository of the installation, now and later) or ids.
export const repositoryScope = z.union([z.literal("all"), z.array(id).max(5000)]);
export const linkBody = z.object({ installationId: id, repositories: repositoryScope.optional() }).strict();
export const scopeBody = z.object({ repositories: repositoryScope }).strict();
// GitHub event type names; which are known is the service's to say (it lists them in its 400).
export const subscriptionsBody = z.object({ events: z.array(freeText().min(1).max(100)).max(200) }).strict();

// "." and ".." pass the character class but are dot segments: in GitHub's URL (/repos/{owner}/{repo}/…)
// fetch resolves them, so the call would leave the linked account's repository for another path.
const githubName = freeText()
  .regex(/^[A-Za-z0-9_.-]{1,100}$/, "must be a GitHub name (letters, digits, . _ -)")
  .refine((n) => n !== "." && n !== "..", "must be a GitHub name, not . or ..");
// git check-ref-format, the parts that matter for a branch name typed by a person or a platform.
const branchName = freeText()
  .min(1)
  .max(250)
  .refine((b) => !/(^[./-])|([./]$)|\.\.|[\s~^:?*[\\]|@\{|\/\/|\.lock$/.test(b), "is not a valid branch name");
const filePath = freeText()
  .min(1)
  .max(MAX_PATH_LENGTH)
  .refine((p) => !p.startsWith("/") && !p.split("/").some((s) => s === "" || s === "." || s === ".." || s === ".git"), "must be a relative path inside the repository");

export const repositoryParams = z.object({ teamId: id, owner: githubName, repo: githubName });

export const createRepositoryBody = z
  .object({
    installationId: id,
    name: githubName,
    private: z.boolean().optional(),
    description: freeText({ multiline: true }).max(350).optional(),
    autoInit: z.boolean().optional(),
  })
  .strict();

export const commitBody = z
  .object({
    branch: branchName,
    message: freeText({ multiline: true }).min(1).max(MAX_MESSAGE_LENGTH),
    baseBranch: branchName.optional(),
    files: z
      .array(
        z.object({
          path: filePath,
          content: z.string(),
          encoding: z.enum(["utf-8", "base64"]).optional(),
        }).strict().refine((f) => f.encoding !== "base64" || /^[A-Za-z0-9+/]*={0,2}$/.test(f.content), "content is not valid base64"),
      )
      .min(1),
  })
  .strict();

export const teamRepositoriesQuery = z
  .object({
    q: freeText().max(100).optional(),
    installationId: id.optional(),
    cursor: freeText().min(1).max(100).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(30),
  })
  .strict();

export const auditQuery = z
  .object({
    cursor: freeText().max(100).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();

export const tokenBody = z
  .object({
    repositories: z
      .array(z.string().regex(/^[A-Za-z0-9_.-]{1,100}\/[A-Za-z0-9_.-]{1,100}$/, "must be owner/name"))
      .min(1)
      .max(MAX_TOKEN_REPOSITORIES, `GitHub limits a token to ${MAX_TOKEN_REPOSITORIES} repositories`)
      .optional(),
    installationId: id.optional(),
    permissions: z
      .record(z.string(), z.enum(["read", "write"]))
      .superRefine((permissions, ctx) => {
        for (const name of Object.keys(permissions)) {
          if (!PERMISSION_NAMES.has(name)) ctx.addIssue({ code: "custom", path: [name], message: "is not a GitHub App permission" });
        }
      })
      .optional(),
  })
  .strict();
