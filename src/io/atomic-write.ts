// Writing a file so that a crash, a full disk or a Ctrl-C at any moment leaves either the old file
// or the new one, never a torn mix: the bytes go to a temporary file beside it, reach the disk
// (fsync), and only then take the name (rename is atomic within a folder); the folder is synced
// last so the rename itself survives a power cut.
import * as fs from 'fs';
import * as path from 'path';

export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  const dir = path.dirname(path.resolve(file));
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    const fd = fs.openSync(temp, 'w');
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, file);
  } catch (e) {
    fs.rmSync(temp, { force: true });
    throw e;
  }
  syncFolder(dir);
}

function syncFolder(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some systems cannot open or sync a folder; the file itself is already on disk.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
