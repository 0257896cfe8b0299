/** Signed user tokens (JWT, HS256): verified without a database round trip. */
import { SignJWT, jwtVerify } from 'jose';

export interface UserTokenClaims {
  userId: string;
  appId: string;
  expiresAt: Date;
}

export class UserTokens {
  private readonly key: Uint8Array;

  constructor(
    secret: string,
    private readonly ttlSeconds: number,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  /** Signs a token for an app user; `ttlSeconds` overrides the configured lifetime. */
  async issue(userId: string, appId: string, ttlSeconds = this.ttlSeconds): Promise<{ token: string; expiresAt: Date }> {
    const exp = Math.floor(Date.now() / 1000) + ttlSeconds;
    const token = await new SignJWT({ app: appId })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(userId)
      .setIssuedAt()
      .setExpirationTime(exp)
      .setIssuer('parley')
      .sign(this.key);
    return { token, expiresAt: new Date(exp * 1000) };
  }

  /** The claims of a valid, unexpired token, or null. */
  async verify(token: string): Promise<UserTokenClaims | null> {
    try {
      const { payload } = await jwtVerify(token, this.key, { issuer: 'parley', algorithms: ['HS256'] });
      if (typeof payload.sub !== 'string' || typeof payload.app !== 'string' || typeof payload.exp !== 'number') return null;
      return { userId: payload.sub, appId: payload.app, expiresAt: new Date(payload.exp * 1000) };
    } catch {
      return null;
    }
  }
}
