import { countAdmins } from "../../src/repositories/team-members";
import { addTeamMember } from "../../src/repositories/teams";
import { Hop, request } from "../helpers/browser";
import { NOW, seedTeams } from "../helpers/factories";
import { expectError } from "../helpers/http-expect";
import { signedInMember } from "../helpers/team-access";
import { describeEachServer } from "../helpers/test-server";
import { ALICE, BOB } from "../helpers/users";

/**
 * "A team keeps one admin" under concurrency: the admin count and the write it guards must be one
 * serialized step, or two admins stepping on each other at the same moment both pass the check.
 */

const TEAMS = 20;

describeEachServer("a team keeps one admin under concurrent writes", ({ server, db }) => {
  async function twoAdminTeams() {
    const teams = await seedTeams(db(), TEAMS, "race");
    const alice = await signedInMember(server().deps, ALICE, null);
    const bob = await signedInMember(server().deps, BOB, null);
    for (const team of teams) {
      await addTeamMember(db(), team.id, ALICE.id, "admin", NOW);
      await addTeamMember(db(), team.id, BOB.id, "admin", NOW);
    }
    return { teams, alice: alice.cookie, bob: bob.cookie };
  }

  const call = (cookie: string, method: string, path: string, body?: unknown): Promise<Hop> =>
    request(`${server().url}${path}`, {
      method,
      headers: { cookie, accept: "application/json", ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  const demote = (cookie: string, teamId: number, userId: number) => call(cookie, "PUT", `/api/teams/${teamId}/members/${userId}`, { role: "member" });
  const remove = (cookie: string, teamId: number, userId: number) => call(cookie, "DELETE", `/api/teams/${teamId}/members/${userId}`);

  async function expectOneWinnerPerTeam(teams: Array<{ id: number }>, answers: Array<[Hop, Hop]>, winner: number[]) {
    for (const [k, team] of teams.entries()) {
      const statuses = answers[k].map((h) => h.status).sort();
      expect({ team: team.id, statuses, admins: (await countAdmins(db(), team.id)) >= 1 }).toEqual({
        team: team.id,
        statuses: [winner.includes(statuses[0]) ? statuses[0] : -1, statuses[1] === 403 ? 403 : 409].sort(),
        admins: true,
      });
      // The loser either met the winner's write under the team lock (409), or arrived after it had
      // committed and is no admin any more (403): either way it changed nothing.
      const loser = answers[k].find((h) => h.status === 409 || h.status === 403)!;
      expectError(loser, loser.status, loser.status === 409 ? "conflict" : "forbidden");
    }
  }

  test(`two admins demoting each other at the same moment, in ${TEAMS} teams: every team keeps an admin and the loser is refused (409 under the lock, 403 once demoted)`, async () => {
    const { teams, alice, bob } = await twoAdminTeams();

    const answers = await Promise.all(teams.map((t) => Promise.all([demote(alice, t.id, BOB.id), demote(bob, t.id, ALICE.id)])));

    await expectOneWinnerPerTeam(teams, answers, [200]);
  });

  test(`two admins removing each other at the same moment, in ${TEAMS} teams: every team keeps an admin and the loser is refused (409 under the lock, 403 once demoted)`, async () => {
    const { teams, alice, bob } = await twoAdminTeams();

    const answers = await Promise.all(teams.map((t) => Promise.all([remove(alice, t.id, BOB.id), remove(bob, t.id, ALICE.id)])));

    await expectOneWinnerPerTeam(teams, answers, [204]);
  });

  test(`one admin demoting the other while that one removes the first, in ${TEAMS} teams: every team keeps an admin and the loser is refused (409 under the lock, 403 once demoted)`, async () => {
    const { teams, alice, bob } = await twoAdminTeams();

    const answers = await Promise.all(teams.map((t) => Promise.all([demote(alice, t.id, BOB.id), remove(bob, t.id, ALICE.id)])));

    await expectOneWinnerPerTeam(teams, answers, [200, 204]);
  });
});
