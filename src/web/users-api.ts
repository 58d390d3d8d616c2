/**
 * Users of the web app (admins only), and each user's own password:
 *   GET    /api/users                 [{name, role, created}]
 *   POST   /api/users                 {name, password, role?: admin|reader (default reader)}  201
 *   PATCH  /api/users/{name}          {password?, role?}: reset the password, change the role
 *   DELETE /api/users/{name}          204
 *   POST   /api/me/password           {oldPassword, newPassword} (any logged-in user)  204
 *   GET    /api/me/window-presets     {presets: [{label, center, width, modality?}]} (the viewer's own W/L presets)
 *   PUT    /api/me/window-presets     {presets: [...]}: replaces them (any logged-in user)  200
 * The last admin cannot be removed or demoted (409). A new password ends the user's other
 * sessions. Passwords are never logged or returned.
 */
import type { ActivityRecorder } from '../services/activity-log.js';
import { webAction } from './activity-api.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { cookieValue, SESSION_COOKIE, sessionCookie, TooManyLoginsError, type Authenticator } from './auth.js';
import { errorHandler, sendHttpError } from './problem.js';
import { access } from './route-access.js';
import { jsonSchema } from './schemas.js';
import { UserSettingsStore, windowPresetsSchema } from './user-settings.js';
import { passwordSchema, roleSchema, userNameSchema, UserError, type UserStore } from './users.js';

const addBody = z.strictObject({ name: userNameSchema, password: passwordSchema, role: roleSchema.optional() });
const patchBody = z.strictObject({ password: passwordSchema.optional(), role: roleSchema.optional() });
const ownPasswordBody = z.strictObject({ oldPassword: z.string().min(1, 'oldPassword is required'), newPassword: passwordSchema });
const presetsBody = z.strictObject({ presets: windowPresetsSchema });
const nameParams = jsonSchema(z.object({ name: z.string() }));

type NameRequest = FastifyRequest<{ Params: { name: string } }>;

export async function registerUsersApi(
  app: FastifyInstance,
  deps: { users: UserStore; auth: Authenticator; activity?: ActivityRecorder; userSettings?: UserSettingsStore },
): Promise<void> {
  const settings = deps.userSettings ?? UserSettingsStore.forDataDir(deps.users.dataDir);
  await app.register(async (scope) => {
    scope.setErrorHandler(errorHandler);

    // Each user's own window presets for the viewer (user-settings.ts).
    scope.get('/api/me/window-presets', access('read'), async (req) => ({ presets: await settings.windowPresets(req.identity!.name) }));
    scope.put('/api/me/window-presets', { schema: { body: jsonSchema(presetsBody) }, ...access('read') }, async (req) => {
      const b = req.body as z.infer<typeof presetsBody>;
      await settings.setWindowPresets(req.identity!.name, b.presets);
      return { presets: b.presets };
    });

    scope.get('/api/users', access('admin'), async () => deps.users.list());

    scope.post('/api/users', { schema: { body: jsonSchema(addBody) }, ...access('admin') }, async (req, reply) => {
      const b = req.body as z.infer<typeof addBody>;
      const user = await deps.users.add(b.name, b.password, b.role ?? 'reader');
      req.log.info({ by: req.identity?.name, user: user.name, role: user.role }, 'user added');
      deps.activity?.record(webAction(req, 'user', `added user ${user.name} (${user.role})`, { target: user.name }));
      return reply
        .code(201)
        .header('location', `/api/users/${encodeURIComponent(user.name)}`)
        .send(user);
    });

    scope.patch('/api/users/:name', { schema: { params: nameParams, body: jsonSchema(patchBody) }, ...access('admin') }, async (req: NameRequest) => {
      const b = req.body as z.infer<typeof patchBody>;
      if (b.role !== undefined) await deps.users.setRole(req.params.name, b.role);
      if (b.password !== undefined) await deps.users.setPassword(req.params.name, b.password);
      req.log.info({ by: req.identity?.name, user: req.params.name, role: b.role, passwordReset: b.password !== undefined }, 'user changed');
      deps.activity?.record(
        webAction(
          req,
          'user',
          `changed user ${req.params.name}:${b.role !== undefined ? ` role ${b.role}` : ''}${b.password !== undefined ? ' password reset' : ''}`,
          { target: req.params.name },
        ),
      );
      const user = (await deps.users.list()).find((u) => u.name === req.params.name);
      if (!user) throw new UserError(`no user "${req.params.name}"`, 'not-found', 'name');
      return user;
    });

    scope.delete('/api/users/:name', { schema: { params: nameParams }, ...access('admin') }, async (req: NameRequest, reply) => {
      await deps.users.remove(req.params.name);
      await settings.forget(req.params.name);
      req.log.info({ by: req.identity?.name, user: req.params.name }, 'user removed');
      deps.activity?.record(webAction(req, 'user', `removed user ${req.params.name}`, { target: req.params.name }));
      return reply.code(204).send();
    });

    scope.post('/api/me/password', { schema: { body: jsonSchema(ownPasswordBody) }, ...access('read') }, async (req, reply) => {
      const b = req.body as z.infer<typeof ownPasswordBody>;
      const name = req.identity!.name;
      // The old password is checked like a login (throttled), so a stolen session cannot guess it.
      try {
        if (!(await deps.auth.login(name, b.oldPassword, req.ip))) throw new UserError('the old password is wrong', 'invalid', 'oldPassword');
      } catch (err) {
        if (err instanceof TooManyLoginsError) return sendHttpError(reply, err);
        throw err;
      }
      await deps.users.setPassword(name, b.newPassword);
      // Every session of the user ended with the old password; this one goes on with a new cookie.
      if (cookieValue(req, SESSION_COOKIE)) reply.header('set-cookie', sessionCookie(await deps.auth.sessions.create(name), req.protocol === 'https'));
      req.log.info({ user: name }, 'password changed');
      deps.activity?.record(webAction(req, 'user', 'changed their own password', { target: name }));
      return reply.code(204).send();
    });
  });
}
