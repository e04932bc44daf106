/**
 * The fake GitHub's "world": users, organizations with memberships, and the app's installations,
 * plus the JSON GitHub answers about them. Plain data, no HTTP: fake-github.ts serves it.
 *
 *   const acme = world.addOrg({ id: 9001, login: "acme" });
 *   world.setMembership(acme, BOB, "admin");              // state "active" unless told otherwise
 *   const inst = world.install(acme);                      // a new installation id, repository_selection "all"
 *   world.reachableBy(BOB.id);                             // [inst]: own account or an org they belong to
 *   world.uninstall(inst.id);                              // gone from every endpoint
 *   world.installationJson(inst);                          // as REST and webhook payloads carry it
 *   const api = world.addRepository(acme, { name: "api" }); // reached by inst (selection "all")
 *   world.selectRepositories(inst.id, [api.id]);           // for a "selected" installation
 *   world.repositoriesOf(inst.id);                         // what GET /installation/repositories lists
 */
import type { TestUser } from "../helpers/github-oauth";
import { GITHUB_APP_ID, githubInstallation, githubRepository, githubUser, INSTALLATION_PERMISSIONS } from "../fixtures/github-objects";

export { INSTALLATION_PERMISSIONS } from "../fixtures/github-objects";

export type AccountType = "Organization" | "User";

export interface FakeAccount {
  id: number;
  login: string;
  type: AccountType;
}

export type OrgRole = "admin" | "member";
export type MembershipState = "active" | "pending";

export interface FakeMembership {
  role: OrgRole;
  state: MembershipState;
}

export interface FakeInstallation {
  id: number;
  account: FakeAccount;
  repositorySelection: "all" | "selected";
  suspended: boolean;
  createdAt: string;
  /** Moves on with every change (a suspension), as GitHub's updated_at does. */
  updatedAt: string;
  /** The repositories a "selected" installation reaches. */
  selectedRepositoryIds: number[];
}

export interface FakeRepository {
  id: number;
  owner: FakeAccount;
  name: string;
  private: boolean;
  archived: boolean;
  defaultBranch: string;
}

export interface RepositoryOptions {
  /** Default: the next id from 880001 on. */
  id?: number;
  name: string;
  private?: boolean;
  archived?: boolean;
  defaultBranch?: string;
}

export interface InstallOptions {
  /** Default: the next id from 70001 on. */
  id?: number;
  repositorySelection?: "all" | "selected";
  suspended?: boolean;
}

export const FAKE_APP_ID = GITHUB_APP_ID;

export interface GithubWorld {
  /** A user account (signing in does this implicitly). Returns it as an account to install on. */
  addUser(user: TestUser): FakeAccount;
  user(id: number): TestUser | undefined;
  addOrg(org: { id: number; login: string }): FakeAccount;
  org(login: string): FakeAccount | undefined;
  /** Makes `user` a member of `org` (adding both when new); role "admin" or "member". */
  setMembership(org: FakeAccount | string, user: TestUser, role: OrgRole, state?: MembershipState): void;
  removeMembership(org: FakeAccount | string, user: TestUser): void;
  membership(orgLogin: string, userId: number): FakeMembership | undefined;
  /** Installs the app on `account` (a user or an org of this world); GitHub allows one per account. */
  install(account: FakeAccount | TestUser, options?: InstallOptions): FakeInstallation;
  uninstall(installationId: number): FakeInstallation | undefined;
  setSuspended(installationId: number, suspended: boolean): void;
  installation(installationId: number): FakeInstallation | undefined;
  /** Every installation, by id. */
  installations(): FakeInstallation[];
  /** What GET /user/installations lists for the user: their own account's, and their orgs' (any role, active). */
  reachableBy(userId: number): FakeInstallation[];
  /** GitHub's installation object (REST and webhook payloads). */
  installationJson(installation: FakeInstallation): Record<string, unknown>;
  accountJson(account: FakeAccount): Record<string, unknown>;
  /** A repository of `owner` (a user or an org of this world). */
  addRepository(owner: FakeAccount, options: RepositoryOptions): FakeRepository;
  repository(id: number): FakeRepository | undefined;
  /** Changes a repository in place (rename, archive, transfer: a new owner). */
  updateRepository(id: number, change: Partial<Omit<FakeRepository, "id">>): FakeRepository;
  deleteRepository(id: number): void;
  /** The repositories a "selected" installation reaches. */
  selectRepositories(installationId: number, repositoryIds: number[]): void;
  /** What the installation reaches, by id: every repository of its account, or the selected ones. */
  repositoriesOf(installationId: number): FakeRepository[];
  /** GitHub's full repository object (REST and `repository` webhooks). */
  repositoryJson(repository: FakeRepository): Record<string, unknown>;
  /** Forgets every user, org, installation and repository. */
  reset(): void;
}

export function createGithubWorld(appSlug: () => string): GithubWorld {
  const users = new Map<number, TestUser>();
  const orgs = new Map<string, FakeAccount>(); // by lowercase login
  const memberships = new Map<string, Map<number, FakeMembership>>(); // org login (lowercase) → user id → membership
  const installations = new Map<number, FakeInstallation>();
  const repositories = new Map<number, FakeRepository>();
  let nextInstallationId = 70001;
  let nextRepositoryId = 880001;

  const orgKey = (org: FakeAccount | string) => (typeof org === "string" ? org : org.login).toLowerCase();
  const byId = (a: { id: number }, b: { id: number }) => a.id - b.id;

  const world: GithubWorld = {
    addUser(user) {
      users.set(user.id, { id: user.id, login: user.login });
      return { id: user.id, login: user.login, type: "User" };
    },
    user: (id) => users.get(id),
    addOrg(org) {
      const account: FakeAccount = { id: org.id, login: org.login, type: "Organization" };
      orgs.set(org.login.toLowerCase(), account);
      return account;
    },
    org: (login) => orgs.get(login.toLowerCase()),
    setMembership(org, user, role, state = "active") {
      if (typeof org !== "string" && !orgs.has(orgKey(org))) world.addOrg(org);
      if (!orgs.has(orgKey(org))) throw new Error(`the fake GitHub has no organization ${orgKey(org)}`);
      if (!users.has(user.id)) world.addUser(user);
      const members = memberships.get(orgKey(org)) ?? new Map<number, FakeMembership>();
      members.set(user.id, { role, state });
      memberships.set(orgKey(org), members);
    },
    removeMembership(org, user) {
      memberships.get(orgKey(org))?.delete(user.id);
    },
    membership: (orgLogin, userId) => memberships.get(orgLogin.toLowerCase())?.get(userId),
    install(target, options = {}) {
      const account: FakeAccount = "type" in target ? target : world.addUser(target);
      if (account.type === "Organization" && !orgs.has(orgKey(account))) world.addOrg(account);
      if (account.type === "User" && !users.has(account.id)) world.addUser(account);
      const existing = [...installations.values()].find((i) => i.account.id === account.id);
      if (existing) throw new Error(`the app is already installed on ${account.login} (installation ${existing.id})`);
      const id = options.id ?? nextInstallationId++;
      if (installations.has(id)) throw new Error(`installation ${id} exists already`);
      const installation: FakeInstallation = {
        id,
        account: { id: account.id, login: account.login, type: account.type },
        repositorySelection: options.repositorySelection ?? "all",
        suspended: options.suspended ?? false,
        createdAt: new Date().toISOString(),
        updatedAt: new Date().toISOString(),
        selectedRepositoryIds: [],
      };
      installations.set(id, installation);
      return installation;
    },
    uninstall(installationId) {
      const installation = installations.get(installationId);
      installations.delete(installationId);
      return installation;
    },
    setSuspended(installationId, suspended) {
      const installation = installations.get(installationId);
      if (!installation) throw new Error(`the fake GitHub has no installation ${installationId}`);
      installation.suspended = suspended;
      installation.updatedAt = new Date().toISOString();
    },
    installation: (installationId) => installations.get(installationId),
    installations: () => [...installations.values()].sort(byId),
    reachableBy(userId) {
      return world.installations().filter((i) => {
        if (i.account.type === "User") return i.account.id === userId;
        return world.membership(i.account.login, userId)?.state === "active";
      });
    },
    accountJson: (account) => githubUser(account),
    installationJson: (i) =>
      githubInstallation({
        id: i.id,
        account: i.account,
        appId: FAKE_APP_ID,
        appSlug: appSlug(),
        repositorySelection: i.repositorySelection,
        permissions: INSTALLATION_PERMISSIONS,
        createdAt: i.createdAt,
        updatedAt: i.updatedAt,
        suspendedAt: i.suspended ? i.updatedAt : null,
        suspendedBy: i.suspended ? { id: 1, login: "site-admin", type: "User" } : null,
      }),
    addRepository(owner, options) {
      const id = options.id ?? nextRepositoryId++;
      if (repositories.has(id)) throw new Error(`repository ${id} exists already`);
      const repository: FakeRepository = {
        id,
        owner: { id: owner.id, login: owner.login, type: owner.type },
        name: options.name,
        private: options.private ?? true,
        archived: options.archived ?? false,
        defaultBranch: options.defaultBranch ?? "main",
      };
      repositories.set(id, repository);
      return repository;
    },
    repository: (id) => repositories.get(id),
    updateRepository(id, change) {
      const repository = repositories.get(id);
      if (!repository) throw new Error(`the fake GitHub has no repository ${id}`);
      Object.assign(repository, change);
      return repository;
    },
    deleteRepository(id) {
      repositories.delete(id);
    },
    selectRepositories(installationId, repositoryIds) {
      const installation = installations.get(installationId);
      if (!installation) throw new Error(`the fake GitHub has no installation ${installationId}`);
      installation.selectedRepositoryIds = [...repositoryIds];
    },
    repositoriesOf(installationId) {
      const installation = installations.get(installationId);
      if (!installation) return [];
      const owned = [...repositories.values()].filter((r) => r.owner.id === installation.account.id);
      const reached = installation.repositorySelection === "all" ? owned : owned.filter((r) => installation.selectedRepositoryIds.includes(r.id));
      return reached.sort(byId);
    },
    repositoryJson: (r) => githubRepository({ id: r.id, owner: r.owner, name: r.name, private: r.private, archived: r.archived, defaultBranch: r.defaultBranch }),
    reset() {
      repositories.clear();
      nextRepositoryId = 880001;
      users.clear();
      orgs.clear();
      memberships.clear();
      installations.clear();
      nextInstallationId = 70001;
    },
  };
  return world;
}
