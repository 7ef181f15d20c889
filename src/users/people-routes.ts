import { Router, type RequestHandler } from 'express';
import { principalOf } from '../http/authenticate.js';
import { parse } from '../http/validate.js';
import { peopleSearchQuery, personParams } from '../protocol/people.js';
import type { PeopleService } from './people-service.js';

export function createPeopleRouter(deps: { people: PeopleService; requireAuth: RequestHandler }): Router {
  const { people } = deps;
  const router = Router();
  router.use(deps.requireAuth);

  router.get('/', async (req, res) => {
    const query = parse(peopleSearchQuery, req.query, 'query');
    res.json(await people.search(principalOf(res).userId, query));
  });

  router.get('/:id', async (req, res) => {
    const { id } = parse(personParams, req.params, 'params');
    res.json({ user: await people.get(principalOf(res).userId, id) });
  });

  return router;
}
