/** A MongoDB connection string fit for logs and error messages: any password replaced by `***`. */
export function redactUri(uri: string): string {
  return uri.replace(/^(mongodb(?:\+srv)?:\/\/)([^@/]*)@/i, (_match, scheme: string, credentials: string) => {
    const user = credentials.split(':')[0];
    return `${scheme}${credentials.includes(':') ? `${user}:***` : user}@`;
  });
}
