import { Body, Controller, Delete, Get, HttpCode, Param, Patch, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
} from '@nestjs/swagger';
import { ErrorCode } from '../../../common/errors/error-code';
import { ApiErrors, JSON_BODY_ERRORS } from '../../../common/http/openapi';
import { ReadThrottlerGuard } from '../../../common/http/read-throttler.guard';
import { Roles } from '../../auth/roles.decorator';
import { ContactsService } from './contacts.service';
import { ContactResponseDto } from './dto/contact.response';
import { UpdateContactDto } from './dto/update-contact.dto';

@Controller('api/v1/contacts')
@ApiBearerAuth()
@ApiParam({
  name: 'phone',
  description: '`+E164` or `whatsapp:+E164`, URL-encoded; unknown or malformed → 404.',
  example: '+14155550100',
})
export class ContactsController {
  constructor(private readonly contacts: ContactsService) {}

  @Get(':phone')
  @UseGuards(ReadThrottlerGuard)
  @ApiOperation({ summary: 'A contact: its 24-hour window and opt-out' })
  @ApiOkResponse({ type: ContactResponseDto, description: 'The contact.' })
  @ApiErrors(ErrorCode.Unauthorized, ErrorCode.NotFound, ErrorCode.RateLimited)
  get(@Param('phone') phone: string): Promise<ContactResponseDto> {
    return this.contacts.get(phone);
  }

  @Patch(':phone')
  @Roles('admin')
  @ApiOperation({ summary: 'Opt a contact out, or clear its opt-out (admin)' })
  @ApiOkResponse({ type: ContactResponseDto, description: 'The contact.' })
  @ApiErrors(...JSON_BODY_ERRORS, ErrorCode.Unauthorized, ErrorCode.Forbidden, ErrorCode.NotFound)
  update(
    @Param('phone') phone: string,
    @Body() body: UpdateContactDto,
  ): Promise<ContactResponseDto> {
    return this.contacts.setOptedOut(phone, body.optedOut);
  }

  @Delete(':phone')
  @Roles('admin')
  @HttpCode(204)
  @ApiOperation({ summary: "Erase a number's personal data (admin)" })
  @ApiNoContentResponse({ description: 'Erased (also when nothing was stored for the number).' })
  @ApiErrors(ErrorCode.Unauthorized, ErrorCode.Forbidden, ErrorCode.NotFound)
  async erase(@Param('phone') phone: string): Promise<void> {
    await this.contacts.erase(phone);
  }
}
