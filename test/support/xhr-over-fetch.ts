// The part of XMLHttpRequest that dicomweb-client (a browser library) uses, over Node's
// fetch, so the real client runs against a real server in Node tests. Installed with
// installXhr(); the server sees ordinary HTTP requests.

type ResponseType = '' | 'text' | 'json' | 'arraybuffer';

export class FetchXhr {
  readyState = 0;
  status = 0;
  response: unknown = null;
  responseType: ResponseType = '';
  withCredentials = false;
  onreadystatechange: (() => void) | null = null;
  onloadstart: (() => void) | null = null;
  onloadend: (() => void) | null = null;
  onprogress: (() => void) | null = null;
  private method = 'GET';
  private url = '';
  private readonly headers: Record<string, string> = {};
  private responseHeaders = new Headers();

  open(method: string, url: string): void {
    this.method = method;
    this.url = url;
    this.readyState = 1;
  }

  /** As XMLHttpRequest: a header set twice is sent once with both values, comma-separated. */
  setRequestHeader(name: string, value: string): void {
    const key = Object.keys(this.headers).find((k) => k.toLowerCase() === name.toLowerCase()) ?? name;
    this.headers[key] = this.headers[key] === undefined ? value : `${this.headers[key]}, ${value}`;
  }

  getResponseHeader(name: string): string | null {
    return this.responseHeaders.get(name);
  }

  getAllResponseHeaders(): string {
    return [...this.responseHeaders].map(([k, v]) => `${k}: ${v}\r\n`).join('');
  }

  send(data?: ArrayBuffer | Uint8Array | string): void {
    const body = data instanceof ArrayBuffer ? new Uint8Array(data) : data;
    void fetch(this.url, { method: this.method, headers: this.headers, body })
      .then(async (res) => {
        this.status = res.status;
        this.responseHeaders = res.headers;
        const bytes = await res.arrayBuffer();
        if (this.responseType === 'arraybuffer') this.response = bytes;
        else {
          const text = Buffer.from(bytes).toString('utf8');
          this.response = this.responseType === 'json' ? (text ? JSON.parse(text) : null) : text;
        }
      })
      .catch(() => {
        this.status = 0;
      })
      .finally(() => {
        this.readyState = 4;
        this.onreadystatechange?.();
        this.onloadend?.();
      });
  }
}

export function installXhr(): void {
  (globalThis as unknown as { XMLHttpRequest: unknown }).XMLHttpRequest = FetchXhr;
}
