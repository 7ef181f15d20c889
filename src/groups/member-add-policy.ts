import type { MessagesRepository } from '../storage/ports.js';

/**
 * Who may be added to a group by whom, beyond being an active account. `anyone`: any active user (as
 * in most chat apps, where leaving is the answer to an unwanted group); `contacts`: only users who have
 * sent the adder a direct message, so nobody lands in a stranger's group.
 */
export type GroupAddPolicyName = 'anyone' | 'contacts';

export interface MemberAddPolicy {
  /** The users among `userIds` that `adderId` may not add. */
  refused(adderId: string, userIds: readonly string[]): Promise<string[]>;
}

export function memberAddPolicy(name: GroupAddPolicyName, contacts: Pick<MessagesRepository, 'contactsAmong'>): MemberAddPolicy {
  if (name === 'anyone') return { refused: async () => [] };
  return {
    async refused(adderId, userIds) {
      const allowed = await contacts.contactsAmong(adderId, userIds);
      return userIds.filter((id) => !allowed.has(id));
    },
  };
}
