/**
 * GitHub refused a code or refresh token (`bad_verification_code`, `bad_refresh_token`, …).
 * On its own, apart from oauth.ts, so services can recognise it without loading @octokit/oauth-app.
 */
export class OAuthRejected extends Error {
  constructor(readonly reason: string, description: string) {
    super(description);
    this.name = "OAuthRejected";
  }
}
