/** Numbers, times and modes as people read them. */
export function bytes(n: number | undefined): string {
  if (n === undefined) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u += 1;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

export function time(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z').replace(/Z$/, ' UTC');
}

export function mode(type: string, m: number): string {
  let out = type === 'dir' ? 'd' : type === 'symlink' ? 'l' : '-';
  for (let shift = 6; shift >= 0; shift -= 3) {
    const b = (m >> shift) & 7;
    out += (b & 4 ? 'r' : '-') + (b & 2 ? 'w' : '-') + (b & 1 ? 'x' : '-');
  }
  return out;
}

export function owner(uid: number | undefined, gid: number | undefined): string {
  return uid === undefined && gid === undefined ? '' : `${uid ?? '?'}:${gid ?? '?'}`;
}
