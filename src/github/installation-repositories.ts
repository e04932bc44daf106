import type { ProbotOctokit } from "probot";
import type { InstallationRepository } from "../repositories/installation-repositories";

/** Every repository the installation reaches, all pages, as the installation. */
export async function listRepositoriesOfInstallation(octokit: ProbotOctokit): Promise<InstallationRepository[]> {
  const all: InstallationRepository[] = [];
  for await (const { data } of octokit.paginate.iterator("GET /installation/repositories", { per_page: 100 })) {
    for (const r of data as Array<{ id: number; full_name: string; private: boolean }>) all.push({ id: r.id, fullName: r.full_name, private: r.private });
  }
  return all;
}
