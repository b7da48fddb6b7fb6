/** The agent message (docs/protocol.md, section 3), as stored and sent. */
export const AGENT_TYPES = ['sanitization', 'security', 'status', 'error'] as const;
export const PRIORITIES = ['low', 'medium', 'high', 'critical'] as const;
export const GUARANTEES = ['best-effort', 'at-least-once', 'exactly-once'] as const;

export type AgentType = (typeof AGENT_TYPES)[number];
export type Priority = (typeof PRIORITIES)[number];
export type DeliveryGuarantee = (typeof GUARANTEES)[number];

export interface AgentMessage {
  id: string;
  role: 'assistant';
  content: string;
  timestamp: string;
  agentType: AgentType;
  priority: Priority;
  ttl: number;
  expiresAt: string;
  deliveryGuarantee: DeliveryGuarantee;
  source: string;
  sessionId: string;
  seq: number;
  correlationId?: string;
  data?: Record<string, unknown>;
}

/** True for the guarantees whose messages are stored until acked or expired. */
export const isStored = (g: DeliveryGuarantee): boolean => g !== 'best-effort';
