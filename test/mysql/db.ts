/** Test helpers for the live MariaDB on 127.0.0.1:3306: unique databases that drop themselves. */
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import type { TestContextLike } from '../helpers/tmp.js';

export const MYSQL = { host: '127.0.0.1', port: 3306, user: 'root', password: '' };
/** Connection flags for the CLI (and mydumper/myloader, which take the same short options). */
export const CONN = ['-h', '127.0.0.1', '-P', '3306', '-u', 'root'];

export type Conn = mysql.Connection;

export async function connect(database?: string): Promise<Conn> {
  return mysql.createConnection({
    ...MYSQL,
    ...(database === undefined ? {} : { database }),
    charset: 'UTF8MB4_GENERAL_CI',
    multipleStatements: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
  });
}

/** A fresh database name, dropped after the test (together with any `${name}_*` databases). */
export async function uniqueDb(t: TestContextLike, prefix = 'sl'): Promise<string> {
  const name = `${prefix}_${process.pid}_${randomBytes(3).toString('hex')}`;
  t.after(async () => {
    const c = await connect();
    try {
      const [rows] = await c.query<mysql.RowDataPacket[]>('SHOW DATABASES');
      for (const r of rows) {
        const db = String(r.Database);
        if (db === name || db.startsWith(`${name}_`)) await c.query(`DROP DATABASE IF EXISTS \`${db}\``);
      }
    } finally {
      await c.end();
    }
  });
  return name;
}

export async function sql(database: string | undefined, text: string): Promise<unknown> {
  const c = await connect(database);
  try {
    const [rows] = await c.query(text);
    return rows;
  } finally {
    await c.end();
  }
}

/** CHECKSUM TABLE of every base table of `db`, by table name. */
export async function checksums(db: string): Promise<Record<string, string>> {
  const c = await connect();
  try {
    const [tables] = await c.query<mysql.RowDataPacket[]>(
      "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
      [db],
    );
    const out: Record<string, string> = {};
    for (const t of tables) {
      const name = String(t.TABLE_NAME);
      const [rows] = await c.query<mysql.RowDataPacket[]>(`CHECKSUM TABLE \`${db}\`.\`${name.replace(/`/g, '``')}\``);
      out[name] = String(rows[0]?.Checksum);
    }
    return out;
  } finally {
    await c.end();
  }
}

/** Views, triggers, routines, indexes and column definitions of `db`, to compare a copy with its source. */
export async function objects(db: string): Promise<Record<string, string[]>> {
  const c = await connect();
  try {
    const q = async (text: string): Promise<string[]> => {
      const [rows] = await c.query<mysql.RowDataPacket[]>(text, [db]);
      return rows.map((r) => String(Object.values(r)[0]));
    };
    return {
      views: await q("SELECT TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ? ORDER BY 1"),
      triggers: await q('SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? ORDER BY 1'),
      routines: await q('SELECT CONCAT(ROUTINE_TYPE, " ", ROUTINE_NAME) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? ORDER BY 1'),
      indexes: await q(
        "SELECT CONCAT_WS(' ', TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME, NON_UNIQUE, INDEX_TYPE) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? ORDER BY 1",
      ),
      columns: await q(
        "SELECT CONCAT_WS(' ', TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, IFNULL(COLUMN_DEFAULT, '-'), EXTRA) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY 1",
      ),
    };
  } finally {
    await c.end();
  }
}

/** Every common column type, NULLs, binary, unicode, zero dates, a view, a trigger, a routine. */
/**
 * `forMydumper`: leaves out what Debian's mydumper/myloader 0.10 cannot carry (a table name outside
 * ASCII, which they send under SET NAMES binary, and a routine with a string literal that has a
 * line ending in ";", which their line-based splitter cuts).
 */
export function allTypesSchema(db: string, forMydumper = false): string {
  return `
CREATE DATABASE \`${db}\` CHARACTER SET utf8mb4;
USE \`${db}\`;
CREATE TABLE types (
 id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
 ti TINYINT, si SMALLINT UNSIGNED, mi MEDIUMINT, bi BIGINT, bu BIGINT UNSIGNED,
 d DECIMAL(30,10), f FLOAT, fd FLOAT(10,3), db DOUBLE,
 c CHAR(5), vc VARCHAR(100), tx TEXT, lt LONGTEXT CHARACTER SET latin1, l1 VARCHAR(10) CHARACTER SET latin1 DEFAULT 'é',
 bn BINARY(4), vb VARBINARY(300), bl BLOB, mb MEDIUMBLOB,
 dt DATE, dtm DATETIME(6), ts TIMESTAMP NULL, tm TIME(3), yr YEAR,
 e ENUM('a','b','c'), st SET('x','y','z'), bt BIT(10), b1 BIT(1), j JSON, pt POINT NULL,
 inv INT INVISIBLE DEFAULT 7,
 g INT AS (ti*2) VIRTUAL, gs VARCHAR(120) AS (concat(vc,'!')) STORED,
 KEY k_vc (vc), UNIQUE KEY u_bi (bi)
) ENGINE=InnoDB;
INSERT INTO types (ti,si,mi,bi,bu,d,f,fd,db,c,vc,tx,lt,bn,vb,bl,mb,dt,dtm,ts,tm,yr,e,st,bt,b1,j,pt,inv) VALUES
 (-128, 65535, -8388608, -9223372036854775808, 18446744073709551615, -12345678901234567890.0123456789, 1.2345678, 123.4567, 0.1e0+0.2e0,
  'ab', 'héllo ☃ 😀 日本語', 'line1\\nline2\\r\\t\\\\ "q" \\'s\\' \\0 \\Z end -- x; \\n-- y 5\\n', X'636166E9',
  0x00010203, 0x5c27220a0d001a3b0a, 0xdeadbeef00ff, REPEAT(0x00ff0a3b5c27, 3000), '2024-02-29', '2024-01-01 12:34:56.123456',
  '2038-01-19 03:14:07', '-838:59:59.000', 2155, 'b', 'x,z', b'1010101010', b'1',
  '{"a": [1, 2.5, "x\\\\"y"], "u": "☃"}', ST_GeomFromText('POINT(1.5 -2.25)'), 42),
 (NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL),
 (0,0,0,0,0,0,16777217,-0.001,1.7976931348623157e308,'','','','','','','','','1000-01-01','1000-01-01 00:00:00','1970-01-01 00:00:01',
  '00:00:00',1901,'a','',b'0',b'0','null',NULL,0),
 (1,2,3,4,5,6.5,3.4028234e38,-99999.999,5e-324,'z','z','z','z',0xff,0xff,0xff,0xff,'9999-12-31','9999-12-31 23:59:59.999999',
  NULL,'838:59:59.999',0,'c','x,y,z',b'1111111111',b'1','[]',NULL,NULL);
SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO';
INSERT INTO types (id, dt, dtm, vc) VALUES (0, '0000-00-00', '0000-00-00 00:00:00', 'zero id');
SET SESSION sql_mode = DEFAULT;
CREATE TABLE \`${forMydumper ? 'weird-name.x' : 'wëird-name.x'}\` (\`${forMydumper ? 'col' : 'çol ☃'}\` VARCHAR(20) PRIMARY KEY, \`a\`\`b\` INT) ENGINE=InnoDB;
INSERT INTO \`${forMydumper ? 'weird-name.x' : 'wëird-name.x'}\` VALUES ('ünïcode', 1), ('line\\nbreak', 2);
CREATE TABLE nopk (a VARCHAR(10), b INT) ENGINE=MyISAM;
INSERT INTO nopk VALUES ('x',1),('y',2),(NULL,NULL),('x',1);
CREATE TABLE empty_t (id INT PRIMARY KEY) ENGINE=InnoDB;
CREATE TABLE parent (id INT PRIMARY KEY) ENGINE=InnoDB;
CREATE TABLE child (id INT PRIMARY KEY, p INT, KEY (p), CONSTRAINT fk_p FOREIGN KEY (p) REFERENCES parent (id)) ENGINE=InnoDB;
INSERT INTO parent VALUES (1),(2); INSERT INTO child VALUES (10,1),(20,2);
CREATE VIEW v1 AS SELECT id, vc FROM types WHERE id > 1;
CREATE VIEW v2 AS SELECT COUNT(*) AS n FROM v1;
CREATE TRIGGER trg BEFORE INSERT ON nopk FOR EACH ROW BEGIN
  SET NEW.b = NEW.b + 1;
  SET NEW.a = CONCAT(NEW.a, ';');
END;
CREATE PROCEDURE p1(IN x INT) BEGIN
  SELECT x;
  SELECT ${forMydumper ? "'a;b'" : "'a;\nb'"} AS s;
END;
CREATE FUNCTION f1(x INT) RETURNS INT DETERMINISTIC RETURN x*2;
`;
}
