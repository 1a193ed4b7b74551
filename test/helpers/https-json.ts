// One HTTPS GET with whatever credentials a test needs (a client certificate, a bearer token, a CA),
// answered as parsed JSON when it is JSON and as text otherwise.
import { request, type RequestOptions } from 'node:https';

export function httpsGet(url: string | URL, options: RequestOptions = {}): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', ...options }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON: kept as text
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}
