import { Body, Controller, Delete, Get, HttpCode, Param, Patch, UseGuards } from '@nestjs/common';
import { ReadThrottlerGuard } from '../../../common/http/read-throttler.guard';
import { Roles } from '../../auth/roles.decorator';
import { ContactsService, type ContactResponse } from './contacts.service';
import { UpdateContactDto } from './dto/update-contact.dto';

@Controller('api/v1/contacts')
export class ContactsController {
  constructor(private readonly contacts: ContactsService) {}

  @Get(':phone')
  @UseGuards(ReadThrottlerGuard)
  get(@Param('phone') phone: string): Promise<ContactResponse> {
    return this.contacts.get(phone);
  }

  @Patch(':phone')
  @Roles('admin')
  update(@Param('phone') phone: string, @Body() body: UpdateContactDto): Promise<ContactResponse> {
    return this.contacts.setOptedOut(phone, body.optedOut);
  }

  @Delete(':phone')
  @Roles('admin')
  @HttpCode(204)
  async erase(@Param('phone') phone: string): Promise<void> {
    await this.contacts.erase(phone);
  }
}
