import { UserError } from '@hotsplice/kernel';

export async function guestCommand(_args: string[]): Promise<number> {
  throw new UserError('guest: not yet available');
}
