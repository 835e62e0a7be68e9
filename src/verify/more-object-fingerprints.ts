// Schema objects beyond tables, columns and routines that pg_dump carries and a restore could
// lose: extended statistics, operators, text search configurations, event triggers,
// publications, foreign servers and user mappings, comments on any object, and how many objects
// each extension owns. Each query yields (kind, name, def) under search_path = pg_catalog.
import { notFromExtension as notExt, isUserSchema as userNs } from './user-objects.ts';

/** An array's items sorted and joined: pg_dump may write options in another order than stored. */
export const sorted = (array: string) => `(SELECT string_agg(o, ',' ORDER BY o) FROM unnest(${array}) AS o)`;

// Objects made by initdb have OIDs below FirstNormalObjectId: not the database's own.
const FIRST_NORMAL_OID = 16384;

/** Queries of the objects above (merged into the schema fingerprint). */
export const MORE_OBJECT_QUERIES: Record<string, string> = {
  statistics: `SELECT 'statistics', quote_ident(n.nspname) || '.' || quote_ident(s.stxname), pg_get_statisticsobjdef(s.oid)
    FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace
    WHERE ${userNs('n.nspname')} AND ${notExt('pg_statistic_ext', 's.oid')}`,
  operators: `SELECT 'operator', o.oid::regoperator::text,
      concat_ws(' ', o.oprcode::regproc::text, 'commutator=' || nullif(o.oprcom, 0)::regoperator::text,
        'negator=' || nullif(o.oprnegate, 0)::regoperator::text)
    FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace
    WHERE ${userNs('n.nspname')} AND ${notExt('pg_operator', 'o.oid')}`,
  textSearch: `SELECT 'text-search-configuration', c.oid::regconfig::text,
      c.cfgparser::regproc::text || ' ' || coalesce((SELECT string_agg(m.maptokentype || ':' || m.mapdict::regdictionary::text, ','
        ORDER BY m.maptokentype, m.mapseqno) FROM pg_ts_config_map m WHERE m.mapcfg = c.oid), '')
    FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace
    WHERE ${userNs('n.nspname')} AND ${notExt('pg_ts_config', 'c.oid')}`,
  // (notFromExtension's subquery names pg_depend `e`: no other alias may be `e`.)
  eventTriggers: `SELECT 'event-trigger', quote_ident(t.evtname),
      concat_ws(' ', t.evtevent, t.evtfoid::regproc::text, 'enabled=' || t.evtenabled::text, 'tags=' || array_to_string(t.evttags, ','))
    FROM pg_event_trigger t WHERE ${notExt('pg_event_trigger', 't.oid')}`,
  publications: `SELECT 'publication', quote_ident(p.pubname),
      concat_ws(' ', 'all-tables=' || p.puballtables::text, 'insert=' || p.pubinsert::text, 'update=' || p.pubupdate::text,
        'delete=' || p.pubdelete::text, 'truncate=' || p.pubtruncate::text,
        'tables=' || coalesce((SELECT string_agg(x.name, ',' ORDER BY x.name) FROM (SELECT quote_ident(t.schemaname) || '.'
          || quote_ident(t.tablename) AS name FROM pg_publication_tables t WHERE t.pubname = p.pubname) x), ''))
    FROM pg_publication p`,
  foreignServers: `SELECT 'foreign-server', quote_ident(s.srvname),
      concat_ws(' ', w.fdwname, 'type=' || s.srvtype, 'version=' || s.srvversion, 'options=' || ${sorted('s.srvoptions')})
    FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw`,
  // Options of a user mapping may hold a password: only which options are set is compared.
  userMappings: `SELECT 'user-mapping', quote_ident(m.srvname) || ' for ' || m.usename,
      coalesce((SELECT string_agg(split_part(o, '=', 1), ',' ORDER BY split_part(o, '=', 1)) FROM unnest(m.umoptions) o), '')
    FROM pg_user_mappings m`,
  comments: `SELECT 'comment', pg_describe_object(d.classoid, d.objoid, d.objsubid), d.description
    FROM pg_description d
    WHERE d.objoid >= ${FIRST_NORMAL_OID} AND NOT EXISTS (SELECT 1 FROM pg_depend e
      WHERE e.classid = d.classoid AND e.objid = d.objoid AND e.deptype = 'e')
      AND d.classoid <> 'pg_extension'::regclass`,
  // Each object an extension owns, named: a member dropped from a restored extension is named.
  extensionMembers: `SELECT 'extension-member', pg_describe_object(d.classid, d.objid, d.objsubid), quote_ident(x.extname)
    FROM pg_depend d JOIN pg_extension x ON x.oid = d.refobjid
    WHERE d.deptype = 'e' AND d.refclassid = 'pg_extension'::regclass`,
};
