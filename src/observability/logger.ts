/** pino logger factory. Secrets that can appear in requests are redacted by path, never logged raw. */
import { pino } from 'pino';

export type AppLogger = pino.Logger;

export function createLogger(level: string, destination?: pino.DestinationStream): AppLogger {
  return pino(
    {
      level,
      base: { service: 'winroll' },
      redact: {
        paths: ['password', '*.password', 'req.headers.authorization', 'token', '*.token', 'wresult'],
        censor: '[redacted]',
      },
    },
    destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
