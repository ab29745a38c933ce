/**
 * Download a file from the API as the signed-in person (bearer token from the session): fetch →
 * blob → a temporary link with the server's file name. Errors come back with their LG_ERR code.
 */
import { ApiError, session } from '../api';

export async function download(path: string, fallbackName: string): Promise<void> {
  const s = session();
  const res = await fetch(path, { headers: s ? { authorization: `Bearer ${s.token}` } : {}, cache: 'no-store' });
  if (!res.ok) {
    let body: any = null;
    try {
      body = await res.json();
    } catch {
      /* not JSON */
    }
    throw new ApiError(res.status, body?.code ?? null, body?.message ?? `HTTP ${res.status}`);
  }
  const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? fallbackName;
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** An image from the API (the label picture) as an object URL, with the session's token. */
export async function imageUrl(path: string): Promise<string> {
  const s = session();
  const res = await fetch(path, { headers: s ? { authorization: `Bearer ${s.token}` } : {} });
  if (!res.ok) throw new ApiError(res.status, null, `HTTP ${res.status}`);
  return URL.createObjectURL(await res.blob());
}
