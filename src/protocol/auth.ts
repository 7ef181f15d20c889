import { Expo } from 'expo-server-sdk';
import { z } from 'zod';
import { idSchema, textSchema, type Timestamp } from './common.js';

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

export type UserStatus = 'active' | 'banned' | 'deleted';
export type UserRole = 'user' | 'admin';

export interface UserDto {
  id: string;
  email: string;
  name: string;
  status: UserStatus;
  role: UserRole;
  createdAt: Timestamp;
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  /** Access-token lifetime in seconds. */
  expiresIn: number;
}

export interface AuthResponse extends TokenPair {
  user: UserDto;
}

export interface SessionDto {
  id: string;
  deviceName: string | null;
  userAgent: string | null;
  ip: string | null;
  createdAt: Timestamp;
  lastUsedAt: Timestamp;
  expiresAt: Timestamp;
  current: boolean;
}
