import { randomBytes } from "node:crypto";
import { createTokenCipher, EncryptionKey, TokenDecryptionError } from "../../../src/crypto/token-cipher";
import { accessContext, refreshContext } from "../../../src/services/identity/user-tokens";

const key = (id: string): EncryptionKey => ({ id, key: randomBytes(32) });
const K1 = key("k1");
const K2 = key("k2");

const TOKEN = "ghu_16C7e42F292c6912E7710c838347Ae178B4a";
const CONTEXT = accessContext(5001);

type Part = "keyId" | "iv" | "tag" | "ciphertext";
const PARTS: Part[] = ["keyId", "iv", "tag", "ciphertext"];

function split(stored: string): Record<Part, string> {
  const values = stored.split(":");
  return Object.fromEntries(PARTS.map((p, i) => [p, values[i]])) as Record<Part, string>;
}

function join(parts: Record<Part, string>): string {
  return PARTS.map((p) => parts[p]).join(":");
}

/** The stored value with one base64 part changed by `change` (on its bytes). */
function alter(stored: string, part: Exclude<Part, "keyId">, change: (bytes: Buffer) => Buffer): string {
  const parts = split(stored);
  return join({ ...parts, [part]: change(Buffer.from(parts[part], "base64")).toString("base64") });
}

const flipFirstBit = (bytes: Buffer) => {
  const copy = Buffer.from(bytes);
  copy[0] ^= 0x01;
  return copy;
};

function decryptionError(run: () => unknown): TokenDecryptionError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(TokenDecryptionError);
    return error as TokenDecryptionError;
  }
  throw new Error("expected decryption to throw");
}

describe("createTokenCipher", () => {
  const cipher = createTokenCipher([K1]);

  test("decrypt(encrypt(x)) gives x back, for a token, an empty string and non-ASCII text", () => {
    for (const value of [TOKEN, "", "ünïcødé ✓ token"]) {
      expect(cipher.decrypt(cipher.encrypt(value, CONTEXT), CONTEXT)).toBe(value);
    }
  });

  test("two encryptions of the same value differ (a fresh IV each time)", () => {
    const a = cipher.encrypt(TOKEN, CONTEXT);
    const b = cipher.encrypt(TOKEN, CONTEXT);
    expect(a).not.toBe(b);
    expect(split(a).iv).not.toBe(split(b).iv);
    expect(split(a).ciphertext).not.toBe(split(b).ciphertext);
  });

  test("the stored form is keyId:iv:tag:ciphertext, base64 parts, without the plaintext", () => {
    const stored = cipher.encrypt(TOKEN, CONTEXT);
    expect(stored).toMatch(/^k1:[A-Za-z0-9+/]+={0,2}:[A-Za-z0-9+/]+={0,2}:[A-Za-z0-9+/]+={0,2}$/);
    const parts = split(stored);
    expect(Buffer.from(parts.iv, "base64")).toHaveLength(12);
    expect(Buffer.from(parts.tag, "base64")).toHaveLength(16);
    expect(Buffer.from(parts.ciphertext, "base64")).toHaveLength(Buffer.byteLength(TOKEN));
    expect(stored).not.toContain(TOKEN);
    expect(cipher.keyIdOf(stored)).toBe("k1");
  });

  test.each(["ciphertext", "tag", "iv"] as const)("a tampered %s throws TokenDecryptionError", (part) => {
    const tampered = alter(cipher.encrypt(TOKEN, CONTEXT), part, flipFirstBit);
    const error = decryptionError(() => cipher.decrypt(tampered, CONTEXT));
    expect(error.message).toMatch(/failed authentication \(key "k1"\)/);
    expect(error.message).not.toContain(TOKEN);
  });

  test("a truncated tag throws: a 4-byte tag would let a forgery through after 2^32 tries", () => {
    const truncated = alter(cipher.encrypt(TOKEN, CONTEXT), "tag", (tag) => tag.subarray(0, 4));
    decryptionError(() => cipher.decrypt(truncated, CONTEXT));
  });

  test("a value with the wrong number of parts throws as malformed", () => {
    const parts = split(cipher.encrypt(TOKEN, CONTEXT));
    for (const stored of ["", TOKEN, `${parts.keyId}:${parts.iv}:${parts.tag}`, `${join(parts)}:extra`]) {
      expect(decryptionError(() => cipher.decrypt(stored, CONTEXT)).message).toMatch(/malformed/);
    }
  });

  test("a value moved to another user's row or another column throws", () => {
    const stored = cipher.encrypt(TOKEN, accessContext(5001));
    decryptionError(() => cipher.decrypt(stored, accessContext(5002)));
    decryptionError(() => cipher.decrypt(stored, refreshContext(5001)));
    expect(cipher.decrypt(stored, accessContext(5001))).toBe(TOKEN);
  });

  test("a value under a key id that is not configured throws, naming the key", () => {
    const stored = createTokenCipher([key("k9")]).encrypt(TOKEN, CONTEXT);
    const error = decryptionError(() => cipher.decrypt(stored, CONTEXT));
    expect(error.message).toMatch(/"k9"/);
    expect(error.message).toMatch(/TOKEN_ENCRYPTION_KEYS/);
  });

  test("a value claiming a configured key id but made with other key bytes throws", () => {
    const impostor = createTokenCipher([{ id: "k1", key: randomBytes(32) }]).encrypt(TOKEN, CONTEXT);
    decryptionError(() => cipher.decrypt(impostor, CONTEXT));
  });

  test("with keys k2,k1 new values are under k2 and values under k1 still decrypt", () => {
    const old = createTokenCipher([K1]).encrypt(TOKEN, CONTEXT);
    const rotated = createTokenCipher([K2, K1]);

    expect(rotated.currentKeyId).toBe("k2");
    const fresh = rotated.encrypt(TOKEN, CONTEXT);
    expect(fresh.startsWith("k2:")).toBe(true);
    expect(rotated.decrypt(fresh, CONTEXT)).toBe(TOKEN);
    expect(rotated.decrypt(old, CONTEXT)).toBe(TOKEN);
    // Once k1 is dropped, only k2 values are readable.
    const k2Only = createTokenCipher([K2]);
    expect(k2Only.decrypt(fresh, CONTEXT)).toBe(TOKEN);
    expect(decryptionError(() => k2Only.decrypt(old, CONTEXT)).message).toMatch(/"k1"/);
  });

  test("refuses to be built without a key", () => {
    expect(() => createTokenCipher([])).toThrow(/at least one encryption key/);
  });
});
