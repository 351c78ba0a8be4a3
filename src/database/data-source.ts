import { DataSource } from 'typeorm';
import { loadConfig } from '../config/load-config';
import { processEnv } from '../config/process-env';
import { dataSourceOptions } from './data-source-options';

// The data source the TypeORM CLI loads (`npm run migration:generate`).
export default new DataSource(dataSourceOptions(loadConfig(processEnv()).database));
