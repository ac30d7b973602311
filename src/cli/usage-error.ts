// How a failed command ends: the user's mistakes (a flag, a value, a file) in one `cellscan: ...`
// line and status 2, since a stack trace or the whole usage would bury what to fix; anything else
// is a bug or a failure of the machine, whose stack is worth having.

/** A mistake on the command line: the message names the flag, what it takes and what it got. */
export class UsageError extends Error {}

/** Status 2 and the line for a usage mistake, or undefined for anything else. */
export function usageMistake(e: unknown, command: string | undefined): string | undefined {
  const err = e as Error & { code?: string };
  const parse = typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS');
  // The library's argument checks throw TypeError and RangeError naming the argument: the user's to fix too.
  if (!(err instanceof UsageError || err instanceof TypeError || err instanceof RangeError || parse)) return undefined;
  let message = err.message;
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    // parseArgs goes on about positionals after '--', which no command takes.
    const flag = /'([^']+)'/.exec(message)?.[1];
    if (flag !== undefined) message = `${command ?? 'cellscan'} has no option ${flag}`;
  }
  message = message.replace(/\s*\n\s*/g, ' ');
  return `cellscan: ${message}${parse && command !== undefined ? ` (see \`cellscan ${command} --help\`)` : ''}`;
}
