import { createHmac, timingSafeEqual } from "node:crypto";

const SHA256_SIGNATURE = /^sha256=([0-9a-f]{64})$/;

/**
 * The HMAC-SHA256 digest an X-Hub-Signature-256 header carries, or undefined when the header is
 * anything but `sha256=` and 64 lowercase hex digits (GitHub's form). @octokit/webhooks-methods'
 * verify() takes whichever algorithm the header names, `sha1=` included: that is GitHub's legacy
 * X-Hub-Signature, never this header.
 */
export function signatureDigest(header: string | undefined): Buffer | undefined {
  const match = header === undefined ? null : SHA256_SIGNATURE.exec(header);
  return match ? Buffer.from(match[1], "hex") : undefined;
}

/** Whether `digest` is the HMAC-SHA256 of these body bytes (fed in order as they arrive). An empty body is never signed. */
export function signatureCheck(secret: string, digest: Buffer) {
  const hmac = createHmac("sha256", secret);
  let size = 0;
  return {
    update(chunk: Buffer | string): void {
      size += chunk.length;
      hmac.update(chunk);
    },
    matches: (): boolean => size > 0 && timingSafeEqual(hmac.digest(), digest),
  };
}

/** A whole body against its X-Hub-Signature-256 header (Lambda, where the body arrives in one piece). */
export function verifySignature(secret: string, body: string | Buffer, header: string | undefined): boolean {
  const digest = signatureDigest(header);
  if (!digest) return false;
  const check = signatureCheck(secret, digest);
  check.update(body);
  return check.matches();
}
