/** Where a request comes from: kept with a session so its user can recognise it, and in audit entries. */
export interface ClientContext {
  userAgent: string | null;
  /** The client's address as the HTTP app reads it (see TRUST_PROXY). */
  ip: string | null;
}
