// The files a command names, checked before it loads a backend or trains: a typo found at the first
// save, or at the end of a demo, would cost the work done until then.
import * as fs from 'fs';
import * as path from 'path';
import { UsageError } from './usage-error';

function why(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'it does not exist';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a folder, not a file';
  return code ?? (e as Error).message;
}

/** The bytes of a file the user named, or a UsageError naming the flag, the file and the reason. */
export function readable(flag: string, file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new UsageError(`${flag}: cannot read ${file}: ${why(e)}`);
  }
}

/** A UsageError unless `file` can be written: its folder exists and is writable, and it is no folder itself. */
export function writableFolder(flag: string, file: string): void {
  const dir = path.dirname(path.resolve(file));
  let isDir = false;
  try {
    isDir = fs.statSync(dir).isDirectory();
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`${flag}: cannot write ${file}: its folder ${dir} ${code === 'ENOENT' ? 'does not exist' : 'is not writable'}`);
  }
  if (!isDir) throw new UsageError(`${flag}: cannot write ${file}: ${dir} is a file, not a folder`);
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw new UsageError(`${flag}: ${file} is a folder, not a file`);
}
