/** Injection token of the shared ioredis client (commands fail fast while disconnected). */
export const REDIS_CLIENT = Symbol('REDIS_CLIENT');
