/** An error whose message is meant for the user as is: the CLI prints it on one line, without a stack. */
export class UserError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'UserError';
  }
}
