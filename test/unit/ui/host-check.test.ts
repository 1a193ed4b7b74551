import { describe, expect, it } from 'vitest';
import { isAllowedHost } from '../../../src/ui/host-check.js';

describe('isAllowedHost', () => {
  it.each(['127.0.0.1', '127.0.0.1:8082', '10.1.2.3:80', '[::1]:8082', '[::1]', 'localhost', 'LOCALHOST:1', 'app.localhost', 'prescale.prescale-system.svc', 'prescale.prescale-system.svc.cluster.local:8082'])(
    'allows %s',
    (host) => expect(isAllowedHost(host)).toBe(true),
  );

  it.each([undefined, '', 'attacker.example', 'attacker.example:8082', '127.0.0.1.attacker.example', 'localhost.attacker.example', 'svc', 'x.svc.attacker.example', '[not-ip]:1', 'a'.repeat(300)])(
    'refuses %s',
    (host) => expect(isAllowedHost(host)).toBe(false),
  );
});
