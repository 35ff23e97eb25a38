import { defineEntity } from './entity.js';
import { audit, date, double, flag, int32, key, text, type Field } from './field.js';

/** `mfA_Device_Name`'s length: the longest name /mfa-verify-setup accepts for a device. */
export const DEVICE_NAME_MAX = 256;

/**
 * The vendor's `Users` record (contract 6.1), vendor field order. Unlike the other records it is
 * kept in the REGISTRY (a user belongs to a client and is granted databases), so it is not in
 * `entities` (the tenant records) and its table is the registry's `users`, not a derived one.
 */
export const user = defineEntity({
  name: 'user',
  label: 'user',
  schemaName: 'Users',
  table: 'users',
  path: 'users',
  keyParam: 'userID',
  fields: [
    key('user_ID', 16),
    flag('account_Locked'),
    text('address', 255),
    text('address2', 128),
    flag('administrator'),
    flag('audit_User'),
    text('can_Set_Allowed', 1),
    text('can_Set_Co_Ins', 1),
    text('can_Set_Not_Covered', 1),
    text('city', 32),
    double('claim_Maximum'),
    text('country_ID', 8),
    text('eMail_Address', 128, { required: true }),
    audit.entryDate,
    audit.entryUser,
    text('fax', 20),
    text('fax_Country_Code', 8),
    int32('grace_Logins'),
    text('home_Phone', 32),
    text('home_Phone_Country_Code', 8),
    flag('iD_Card_Notification'),
    flag('is_SSO_User'),
    text('login_Machine', 128),
    text('login_Sound', 128),
    int32('login_Status'),
    text('mfA_Device_Name', DEVICE_NAME_MAX),
    flag('mfA_Enabled'),
    text('name', 64),
    int32('nav_ID_Color'),
    text('nav_ID_Type', 2),
    flag('nav_ID_Underline'),
    text('password', 32),
    date('password_Expiration'),
    text('phone', 20),
    text('phone_Country_Code', 8),
    text('ssO_User_Name', 256),
    flag('single_Use_Account'),
    text('state', 2),
    text('title', 128),
    audit.updateDate,
    audit.updateUser,
    flag('use_Windows_Authentication'),
    int32('user_Idle'),
    text('user_Type', 16),
    flag('vbA_Password_Reset'),
    flag('vbA_User'),
    text('zip_Code', 32),
  ],
});

/**
 * Contract 6.1's server-owned fields: clients must still send the required ones (generated clients
 * do), but what they send is ignored; the server computes them (lockout, MFA, temporary password).
 */
export const SERVER_OWNED_USER_FIELDS: ReadonlySet<string> = new Set([
  'account_Locked',
  'mfA_Enabled',
  'mfA_Device_Name',
  'vbA_Password_Reset',
  'login_Status',
  'login_Machine',
  'password_Expiration',
]);

/** The fields an administrator writes, each a column of the registry's `users` under its vendor name. */
export const USER_PROFILE_FIELDS: readonly Field[] = user.clientFields.filter(
  (field) => !field.isKey && field.name !== 'password' && !SERVER_OWNED_USER_FIELDS.has(field.name),
);

/** Login names of NEW users: the vendor's 1..16 characters, no `:` (Basic auth). Older, longer ones keep working. */
export const USER_ID = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,15}$/;

