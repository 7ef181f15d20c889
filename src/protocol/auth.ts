import { Expo } from 'expo-server-sdk';
import { z } from 'zod';
import { idSchema, okResponseSchema, textSchema, timestampSchema, wireIdSchema } from './common.js';

export const emailSchema = z.string().trim().toLowerCase().pipe(z.email({ message: 'must be an email address' }).max(254));
export const passwordSchema = z.string().min(8, 'must be at least 8 characters').max(128, 'must be at most 128 characters');
export const deviceNameSchema = textSchema.trim().min(1).max(100);

export const registerBody = z.object({
  email: emailSchema,
  password: passwordSchema,
  name: textSchema.trim().min(1, 'must not be empty').max(100),
  deviceName: deviceNameSchema.optional(),
});

export const loginBody = z.object({
  email: emailSchema,
  // Any string up to the limit: a wrong one is INVALID_CREDENTIALS, not a hint about the rules.
  password: z.string().min(1).max(128),
  deviceName: deviceNameSchema.optional(),
});

export const refreshTokenBody = z.object({ refreshToken: z.string().min(1).max(200) });

export const logoutBody = refreshTokenBody;

/** An Expo push token as expo-server-sdk recognises one (`ExponentPushToken[...]`, `ExpoPushToken[...]`). */
const expoPushTokenSchema = textSchema.max(200).refine((token) => Expo.isExpoPushToken(token), 'must be an Expo push token');

export const expoPushTokenBody = z.object({
  token: expoPushTokenSchema,
  deviceId: textSchema.trim().min(1).max(200).optional(),
});

export const removeExpoPushTokenBody = z.object({ token: expoPushTokenSchema });

export const sessionIdParams = z.object({ id: idSchema });

export type RegisterBody = z.infer<typeof registerBody>;
export type LoginBody = z.infer<typeof loginBody>;

export const USER_STATUSES = ['active', 'banned', 'deleted'] as const;
export const USER_ROLES = ['user', 'admin'] as const;

export const userSchema = z.object({
  id: wireIdSchema,
  email: z.string(),
  name: z.string(),
  status: z.enum(USER_STATUSES),
  role: z.enum(USER_ROLES),
  createdAt: timestampSchema,
});

export const tokenPairSchema = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  expiresIn: z.int().positive().meta({ description: 'Access-token lifetime in seconds.' }),
});

export const authResponseSchema = tokenPairSchema.extend({ user: userSchema });

export const userResponseSchema = z.object({ user: userSchema });

export const sessionSchema = z.object({
  id: wireIdSchema,
  deviceName: z.string().nullable(),
  userAgent: z.string().nullable(),
  ip: z.string().nullable(),
  createdAt: timestampSchema,
  lastUsedAt: timestampSchema,
  expiresAt: timestampSchema,
  current: z.boolean().meta({ description: 'The session of the access token that asked.' }),
});

export const sessionsResponseSchema = z.object({ sessions: z.array(sessionSchema) });

export const logoutAllResponseSchema = okResponseSchema.extend({ revoked: z.int().min(0).meta({ description: 'How many other sessions were ended.' }) });

export type UserStatus = (typeof USER_STATUSES)[number];
export type UserRole = (typeof USER_ROLES)[number];
export type UserDto = z.infer<typeof userSchema>;
export type TokenPair = z.infer<typeof tokenPairSchema>;
export type AuthResponse = z.infer<typeof authResponseSchema>;
export type SessionDto = z.infer<typeof sessionSchema>;
