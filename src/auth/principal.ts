/** The authenticated caller (docs/protocol.md, sections 1 and 2). */
export const SCOPES = ['chat', 'agent:publish', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface Principal {
  /** The user id. */
  sub: string;
  scopes: ReadonlySet<string>;
  /** How the caller proved who it is. */
  via: 'api-key' | 'jwt' | 'open' | 'ticket';
  /** Epoch milliseconds when the credential stops being valid (JWT `exp`), if it does. */
  expiresAt?: number;
}

export interface Authenticator {
  /** True when no keys or JWT key are configured: one anonymous principal with every scope. */
  readonly openMode: boolean;
  /** Checks an `Authorization` header value. Throws HeraldError('unauthorized'). */
  authenticate(authorization: string | undefined): Promise<Principal>;
  /** A single-use WebSocket ticket for the principal, valid for the configured ttl. */
  issueTicket(principal: Principal): Promise<{ ticket: string; expiresAt: string }>;
  /** Redeems a ticket once. Throws HeraldError('unauthorized') for unknown, used or expired tickets. */
  redeemTicket(ticket: string): Promise<Principal>;
}
