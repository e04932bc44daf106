import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

export interface EncryptionKey {
  id: string;
  key: Buffer;
}

export interface TokenCipher {
  /** The key new values are written with (the first of TOKEN_ENCRYPTION_KEYS). */
  readonly currentKeyId: string;
  encrypt(plaintext: string, context: string): string;
  decrypt(stored: string, context: string): string;
  keyIdOf(stored: string): string;
  knows(keyId: string): boolean;
}

export class TokenDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TokenDecryptionError";
  }
}

/**
 * AES-256-GCM, a fresh 96-bit IV per value, stored as `keyId:iv:tag:ciphertext` (base64 parts).
 * The context (say `user_tokens.access:42`) is authenticated but not stored, so a value copied
 * into another user's row or column fails to decrypt instead of handing over someone's token.
 */
export function createTokenCipher(keys: EncryptionKey[]): TokenCipher {
  if (keys.length === 0) throw new Error("at least one encryption key is required");
  const byId = new Map(keys.map((k) => [k.id, k.key]));
  const current = keys[0];

  return {
    currentKeyId: current.id,
    encrypt(plaintext, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", current.key, iv);
      cipher.setAAD(Buffer.from(context, "utf8"));
      const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      return [current.id, iv.toString("base64"), cipher.getAuthTag().toString("base64"), ciphertext.toString("base64")].join(":");
    },
    decrypt(stored, context) {
      const parts = stored.split(":");
      if (parts.length !== 4) throw new TokenDecryptionError("encrypted value is malformed");
      const [keyId, iv, tag, ciphertext] = parts;
      const key = byId.get(keyId);
      if (!key) throw new TokenDecryptionError(`encrypted with key "${keyId}", which is not in TOKEN_ENCRYPTION_KEYS`);
      try {
        // A pinned tag length: otherwise GCM accepts a tag cut to 4 bytes, which is forgeable.
        const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64"), { authTagLength: 16 });
        decipher.setAAD(Buffer.from(context, "utf8"));
        decipher.setAuthTag(Buffer.from(tag, "base64"));
        return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64")), decipher.final()]).toString("utf8");
      } catch {
        throw new TokenDecryptionError(`encrypted value failed authentication (key "${keyId}"): tampered or moved`);
      }
    },
    knows(keyId) {
      return byId.has(keyId);
    },
    keyIdOf(stored) {
      return stored.split(":", 1)[0];
    },
  };
}
