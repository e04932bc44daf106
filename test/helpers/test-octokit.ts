import { ProbotOctokit } from "probot";

// The function form runs last, so it beats Probot's own throttle option (STACK.md pitfall 5).
export const TestOctokit = ProbotOctokit.defaults((options: Record<string, unknown>) => ({
  ...options,
  retry: { enabled: false },
  throttle: { enabled: false },
})) as typeof ProbotOctokit;
